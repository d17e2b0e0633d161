/// The API's OpenAPI 3.1 document, served at `/api/openapi.json`. `OpenAPIDocumentTests` checks that every
/// operation in it is a route of the server and every `/api` route is in it, so the two cannot drift apart.
enum OpenAPIDocument {
    static let json = #"""
    {
      "openapi": "3.1.0",
      "info": {
        "title": "avatarize",
        "version": "1",
        "description": "Submit and follow avatarize batch jobs. Writes need `Authorization: Bearer TOKEN` (a token from --token or --token-file); reads take a token, a browser session, or nothing on a loopback-only dashboard."
      },
      "components": {
        "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
        "schemas": {
          "Error": { "type": "object", "required": ["error"], "properties": { "error": { "type": "string" } } },
          "Problem": {
            "type": "object", "required": ["file", "line", "column", "field", "message"],
            "properties": {
              "file": { "type": "string" }, "line": { "type": "integer" }, "column": { "type": "integer" },
              "field": { "type": "string" }, "message": { "type": "string" }
            }
          },
          "Problems": {
            "type": "object", "required": ["error", "problems"],
            "properties": { "error": { "type": "string" }, "problems": { "type": "array", "items": { "$ref": "#/components/schemas/Problem" } } }
          },
          "SubmittedJobs": {
            "type": "object", "required": ["jobs"],
            "properties": { "jobs": { "type": "array", "items": { "type": "object", "required": ["id"], "properties": { "id": { "type": "integer", "format": "int64" } } } } }
          },
          "Job": { "type": "object", "description": "A job as `avatarize jobs list --json` shows it." },
          "JobDetail": { "type": "object", "description": "A job with its events, as `avatarize jobs show ID --json` shows it." },
          "Status": { "type": "object", "description": "As `avatarize status --json` shows it." }
        }
      },
      "paths": {
        "/api/status": {
          "get": { "operationId": "getStatus", "responses": { "200": { "description": "Counts by state and the running jobs.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Status" } } } }, "401": { "description": "No valid token or session." } } }
        },
        "/api/overview": {
          "get": { "operationId": "getOverview", "responses": { "200": { "description": "What the overview page shows.", "content": { "application/json": { "schema": { "type": "object" } } } }, "401": { "description": "No valid token or session." } } }
        },
        "/api/jobs": {
          "get": {
            "operationId": "listJobs",
            "parameters": [
              { "name": "state", "in": "query", "schema": { "type": "string", "enum": ["queued", "running", "succeeded", "dead", "cancelled"] } },
              { "name": "q", "in": "query", "schema": { "type": "string" } },
              { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 500 } },
              { "name": "before", "in": "query", "schema": { "type": "integer", "format": "int64" } }
            ],
            "responses": { "200": { "description": "Newest first; the X-Next-Before header gives the next page's `before`.", "content": { "application/json": { "schema": { "type": "array", "items": { "$ref": "#/components/schemas/Job" } } } } } }
          },
          "post": {
            "operationId": "submitJobs",
            "security": [{ "bearer": [] }],
            "parameters": [{ "name": "Idempotency-Key", "in": "header", "schema": { "type": "string" }, "description": "The same key again answers the first request's jobs." }],
            "requestBody": {
              "required": true,
              "description": "A job file's content. Relative inputs resolve against --input-root; inputs outside it (symbolic links resolved) are refused.",
              "content": { "application/json": { "schema": { "type": "object" } }, "application/yaml": { "schema": { "type": "string" } } }
            },
            "responses": {
              "201": { "description": "Enqueued (or already queued).", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/SubmittedJobs" } } } },
              "401": { "description": "No valid bearer token.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
              "403": { "description": "The dashboard is read-only or has no --input-root." },
              "413": { "description": "The body is over 1 MiB." },
              "422": { "description": "The job description has problems, or the Idempotency-Key was used for another body.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Problems" } } } }
            }
          }
        },
        "/api/jobs/{id}": {
          "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "integer", "format": "int64" } }],
          "get": { "operationId": "getJob", "responses": { "200": { "description": "The job and its events.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/JobDetail" } } } }, "404": { "description": "No such job." } } },
          "delete": {
            "operationId": "cancelJob",
            "security": [{ "bearer": [] }],
            "responses": {
              "200": { "description": "Cancelled.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/JobDetail" } } } },
              "401": { "description": "No valid bearer token." },
              "404": { "description": "No such job." },
              "409": { "description": "The job has finished and cannot be cancelled." }
            }
          }
        },
        "/api/uploads": {
          "post": {
            "operationId": "uploadClip",
            "security": [{ "bearer": [] }],
            "parameters": [{ "name": "name", "in": "query", "schema": { "type": "string" }, "description": "The clip's file name; only its extension is kept." }],
            "requestBody": { "required": true, "description": "The clip's bytes, streamed to disk and hashed as they arrive.", "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary" } } } },
            "responses": {
              "201": { "description": "Stored as uploads/SHA256.EXT under the input root; use `path` in a job's inputs.", "content": { "application/json": { "schema": { "type": "object", "required": ["path", "sha256", "bytes"], "properties": { "path": { "type": "string" }, "sha256": { "type": "string" }, "bytes": { "type": "integer", "format": "int64" } } } } } },
              "401": { "description": "No valid bearer token." },
              "403": { "description": "The dashboard is read-only or has no --input-root." },
              "413": { "description": "Over the upload limit (--max-upload-bytes); nothing is kept." }
            }
          }
        },
        "/api/openapi.json": {
          "get": { "operationId": "getOpenAPIDocument", "responses": { "200": { "description": "This document." } } }
        }
      }
    }
    """#
}
