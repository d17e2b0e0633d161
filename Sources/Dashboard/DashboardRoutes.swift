import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import NIOCore
import OpenAPIHummingbird

/// The dashboard's routes on the Hummingbird router: the Host guard and authentication as middleware, each
/// page, picture, action and API answer as its own route. The pages themselves are made by `DashboardApp`.
struct DashboardRoutes {
    let app: DashboardApp
    /// Every form fits; the login form and the actions' forms are a few hundred bytes.
    static let maxFormBody = 64 * 1024

    func add(to router: Router<WebContext>) {
        let app = self.app
        router.add(middleware: HostGuardMiddleware(app: app))
        router.add(middleware: DashboardAuthenticator(app: app))
        router.get("/static/:name") { request, context in
            await app.respond(request, context) { _ in
                StaticAssets.response(context.parameters.get("name") ?? "") ?? .text("not found\n", status: 404)
            }
        }
        router.get("/login") { request, context in await app.respond(request, context) { try await app.login($0) } }
        router.post("/login") { request, context in await app.respond(request, context, body: Self.maxFormBody) { try await app.login($0) } }

        let guarded = router.group().add(middleware: RequireIdentityMiddleware())
        guarded.get("/") { request, context in await app.respond(request, context) { _ in .html(try await Pages(app: app).overview()) } }
        guarded.get("/jobs") { request, context in
            await app.respond(request, context) { .html(try await Pages(app: app).jobs(try app.pageQuery($0))) }
        }
        guarded.get("/jobs/:id") { request, context in
            await app.respond(request, context) { _ in try await app.jobPage(context.parameters.get("id") ?? "") }
        }
        guarded.get("/jobs/:id/:item") { request, context in
            await app.respond(request, context) {
                try await app.jobItem($0, id: context.parameters.get("id") ?? "", item: context.parameters.get("item") ?? "")
            }
        }
        guarded.get("/jobs/:id/strip/:frame") { request, context in
            await app.respond(request, context) { _ in
                try await app.stripFrame(id: context.parameters.get("id") ?? "", frame: context.parameters.get("frame") ?? "")
            }
        }
        guarded.post("/jobs/:id/:item") { request, context in
            await app.respond(request, context, body: Self.maxFormBody) {
                try await app.action($0, id: context.parameters.get("id") ?? "", name: context.parameters.get("item") ?? "")
            }
        }
        // The API: routes, inputs and outputs generated from openapi.json (see JobsAPI), behind the API's access rule.
        let api = router.group().add(middleware: APIAccessMiddleware())
        do {
            // The CLI's --json spelling (APIJSON), so that an answer and `jobs show --json` are the same text.
            try JobsAPI(app: app).registerHandlers(on: api, configuration: .init(jsonEncodingOptions: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]),
                                                   middlewares: [APIShapesMiddleware()])
        } catch {
            preconditionFailure("the API's routes cannot be registered at the server root: \(error)")
        }
        router.get("/api/openapi.json") { request, context in
            await app.respond(request, context) { _ in
                guard let document = OpenAPIDocument.bytes else { return .json(try APIJSON.encode(["error": OpenAPIDocument.missing]), status: 500) }
                return DashboardResponse(contentType: "application/json; charset=utf-8", body: document)
            }
        }
    }
}

extension DashboardApp {
    /// Runs one route's work on the framework-neutral request and turns its answer (or its error, in the
    /// dashboard's shapes) into Hummingbird's response.
    func respond(_ request: Request, _ context: WebContext, body limit: Int = 0,
                 _ work: (DashboardRequest) async throws -> DashboardResponse) async -> Response {
        var request = request
        let answer: DashboardResponse
        do {
            let bytes = limit > 0 ? Array(buffer: try await request.collectBody(upTo: limit)) : []
            let req = DashboardRequest(method: request.method.rawValue, uri: request.uri.string,
                                       headers: request.headers.map { ($0.name.rawName, $0.value) } + [("Host", request.head.authority ?? "")],
                                       body: bytes, remoteAddress: context.remoteAddress?.ipAddress)
            do {
                answer = try await work(req)
            } catch {
                answer = errorResponse(req, error)
            }
        } catch {
            answer = .text("request body too large\n", status: 413)
        }
        var headers = HTTPFields()
        for (name, value) in answer.headers { if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) } }
        return Response(status: .init(code: answer.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}

/// Without a token the dashboard answers only to literal loopback Host names (see `LoopbackHost`).
struct HostGuardMiddleware: RouterMiddleware {
    typealias Context = WebContext
    let app: DashboardApp
    func handle(_ request: Request, context: WebContext, next: (Request, WebContext) async throws -> Response) async throws -> Response {
        if !app.tokens.configured {
            // A second Host header (the first became the authority) makes the name ambiguous: refused.
            let extraHost = request.headers[HTTPField.Name("Host")!] != nil
            guard !extraHost, LoopbackHost.isLoopbackHostHeader(request.head.authority ?? "") else {
                return Response(status: .misdirectedRequest, headers: [.contentType: "text/plain; charset=utf-8"],
                                body: .init(byteBuffer: ByteBuffer(string: "this dashboard answers only to loopback host names\n")))
            }
        }
        return try await next(request, context)
    }
}

/// hummingbird-auth's authenticator: a bearer token or a live session cookie names the caller; with no token
/// configured, everyone the Host guard let through is the loopback user.
struct DashboardAuthenticator: AuthenticatorMiddleware {
    typealias Context = WebContext
    let app: DashboardApp
    func authenticate(request: Request, context: WebContext) async throws -> WebIdentity? {
        app.identity(bearer: request.headers.bearer?.token, session: request.cookies[SessionStore.cookieName]?.value)
    }
}

/// Pages send a caller without an identity to the sign-in form.
struct RequireIdentityMiddleware: RouterMiddleware {
    typealias Context = WebContext
    func handle(_ request: Request, context: WebContext, next: (Request, WebContext) async throws -> Response) async throws -> Response {
        if context.identity != nil { return try await next(request, context) }
        return Response(status: .seeOther, headers: [.location: "/login", .contentType: "text/plain"])
    }
}
