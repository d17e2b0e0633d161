import Foundation
import HTTPTypes
import Hummingbird
import Jobs
import NIOCore
import OpenAPIRuntime

/// What the generated handlers need beyond their typed input: who is calling (from the Hummingbird authenticator)
/// and, for a job file, the body's bytes as sent. Task-local values, the way swift-openapi-generator's
/// documentation passes request context from middleware to handlers.
enum APIRequest {
    struct JobFile: Sendable {
        var bytes: [UInt8]
        var contentType: String?
    }
    @TaskLocal static var caller: WebIdentity?
    @TaskLocal static var jobFile: JobFile?
}

enum APIRequestError: Error, CustomStringConvertible {
    case bodyNotCaptured
    var description: String { "the request's body did not reach the handler (a server bug)" }
}

/// Hummingbird middleware on the API's routes: a read needs an identity (a token, a browser session, or anyone
/// on a loopback-only dashboard); a write needs a bearer token, whatever the bind address. The caller travels on
/// to the handlers.
struct APIAccessMiddleware: RouterMiddleware {
    typealias Context = WebContext
    func handle(_ request: Request, context: WebContext, next: (Request, WebContext) async throws -> Response) async throws -> Response {
        let write = request.method != .get && request.method != .head
        guard let identity = context.identity, !write || identity.bearer else {
            let message = write ? "unauthorised: writes need Authorization: Bearer TOKEN (a token from --token or --token-file)"
                                : "unauthorised: send Authorization: Bearer TOKEN"
            let body = (try? APIJSON.encode(["error": message])) ?? Data()
            return Response(status: .unauthorized, headers: [.contentType: "application/json; charset=utf-8", .wwwAuthenticate: "Bearer"],
                            body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        return try await APIRequest.$caller.withValue(identity) { try await next(request, context) }
    }
}

/// OpenAPI middleware in front of the generated handlers: keeps a job file's bytes as sent (capped) for the parser,
/// and answers a request the generated code could not read (a query value of the wrong type, an unknown content
/// type, JSON that is not JSON) in the API's JSON error shape rather than an empty 500.
struct APIShapesMiddleware: ServerMiddleware {
    func intercept(_ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
                   next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?))
        async throws -> (HTTPResponse, HTTPBody?) {
        guard operationID == "submitJobs" else { return try await answering(operationID) { try await next(request, body, metadata) } }
        var bytes: [UInt8] = []
        for try await piece in body ?? HTTPBody() {
            guard bytes.count + piece.count <= DashboardApp.maxJobFileBody else {
                return Self.error(.contentTooLarge, "the body is over \(DashboardApp.maxJobFileBody) bytes; send a bigger batch as several requests")
            }
            bytes += piece
        }
        let file = APIRequest.JobFile(bytes: bytes, contentType: request.headerFields[.contentType])
        return try await answering(operationID, jobFile: file) {
            try await APIRequest.$jobFile.withValue(file) { try await next(request, HTTPBody(bytes), metadata) }
        }
    }

    private func answering(_ operationID: String, jobFile: APIRequest.JobFile? = nil,
                           _ work: () async throws -> (HTTPResponse, HTTPBody?)) async throws -> (HTTPResponse, HTTPBody?) {
        do {
            return try await work()
        } catch let error as ServerError {
            // JSON the generated decoder refused: the job file parser says where it goes wrong, as for any other problem.
            if let jobFile, error.operationInput == nil, error.underlyingError is DecodingError, let problems = Self.syntaxProblems(jobFile) {
                let body = (try? JSONEncoder().encode(JobsAPI.problems(problems))) ?? Data()
                return (HTTPResponse(status: .unprocessableContent, headerFields: [.contentType: "application/json; charset=utf-8"]), HTTPBody(body))
            }
            if error.httpStatus.kind == .serverError { return Self.error(.internalServerError, "\(error.underlyingError)") }
            return Self.error(error.httpStatus, "the request does not match the API (\(operationID)): \(error.underlyingError)")
        }
    }

    private static func syntaxProblems(_ file: APIRequest.JobFile) -> JobFileError? {
        let name = JobSubmission.documentName(contentType: file.contentType)
        do {
            _ = try JobFileParser().parse(text: String(decoding: file.bytes, as: UTF8.self), path: name)
            return nil
        } catch let error as JobFileError {
            return error
        } catch {
            return nil
        }
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> (HTTPResponse, HTTPBody?) {
        let body = (try? APIJSON.encode(["error": message])) ?? Data()
        return (HTTPResponse(status: status, headerFields: [.contentType: "application/json; charset=utf-8"]), HTTPBody(body))
    }
}
