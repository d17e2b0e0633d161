import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import Logging
import NIOCore
import ServiceLifecycle

/// The one HTTP server of avatarize, on Hummingbird 2: the dashboard's pages and JSON API (when given a
/// `DashboardApp`) and a worker's Prometheus `/metrics` (when given an exposition), with Hummingbird's routing,
/// hummingbird-auth's authenticator middleware and per-route body limits.
public final class WebServer: Sendable {
    /// What the server answers.
    public struct Routes: Sendable {
        public var dashboard: DashboardApp?
        /// The Prometheus text for `GET /metrics`.
        public var metrics: (@Sendable () -> [UInt8])?
        public init(dashboard: DashboardApp? = nil, metrics: (@Sendable () -> [UInt8])? = nil) {
            self.dashboard = dashboard; self.metrics = metrics
        }
    }

    /// The port actually bound (useful when asked for port 0).
    public let port: Int
    private let task: Task<Void, any Error>
    private let services: ServiceGroup

    public convenience init(app: DashboardApp, host: String, port: Int) async throws {
        try await self.init(routes: Routes(dashboard: app), host: host, port: port)
    }

    public init(routes: Routes, host: String, port: Int) async throws {
        let router = Self.router(routes)

        var logger = Logger(label: "avatarize.web")
        logger.logLevel = .warning
        let (started, signal) = AsyncStream.makeStream(of: Result<Int, any Error>.self)
        let application = Application(router: router, configuration: .init(address: .hostname(host, port: port), reuseAddress: true),
                                      onServerRunning: { channel in signal.yield(.success(channel.localAddress?.port ?? 0)) },
                                      logger: logger)
        // Run as a service so that close() can shut down gracefully: answers in flight are finished first.
        let services = ServiceGroup(configuration: .init(services: [application], logger: logger))
        self.services = services
        task = Task {
            do {
                try await services.run()
                signal.yield(.failure(WebServerError.stopped))
            } catch {
                signal.yield(.failure(error))
                throw error
            }
        }
        var first = started.makeAsyncIterator()
        switch await first.next() ?? .failure(WebServerError.stopped) {
        case .success(let p): self.port = p
        case .failure(let error):
            task.cancel()
            throw WebServerError.cannotListen(host: host, port: port, reason: "\(error)")
        }
    }

    static func router(_ routes: Routes) -> Router<WebContext> {
        let router = Router(context: WebContext.self)
        let methods = RouteMethods()
        router.add(middleware: ErrorPageMiddleware(methods: methods))
        router.add(middleware: SecurityHeadersMiddleware())
        if let metrics = routes.metrics {
            router.get("/metrics") { _, _ in
                Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                         body: .init(byteBuffer: ByteBuffer(bytes: metrics())))
            }
        }
        if let app = routes.dashboard { DashboardRoutes(app: app).add(to: router) }
        methods.learn(router.routes.map { ("\($0.path)", $0.method.rawValue) })
        return router
    }

    /// Every route as `METHOD /path/{parameter}` (the OpenAPI document's spelling).
    public static func routeTable(_ routes: Routes) -> [String] {
        router(routes).routes.map { route in
            let path = "\(route.path)".split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
            return "\(route.method.rawValue) /" + path.joined(separator: "/")
        }
    }

    /// Waits until the server stops.
    public func run() async throws { try await task.value }

    public func close() async {
        await services.triggerGracefulShutdown()
        _ = await task.result
    }
}

public enum WebServerError: Error, CustomStringConvertible {
    case cannotListen(host: String, port: Int, reason: String)
    case stopped
    public var description: String {
        switch self {
        case let .cannotListen(host, port, reason): return "cannot listen on \(host):\(port): \(reason)"
        case .stopped: return "the web server stopped"
        }
    }
}

/// Who a request comes from, once authenticated: a named API token, a browser session, or anyone on loopback
/// when the dashboard has no token.
public struct WebIdentity: Sendable, Equatable {
    public var name: String
    /// Came with a bearer token (every write through the API needs one, whatever the bind address).
    public var bearer: Bool
    public init(name: String, bearer: Bool = false) { self.name = name; self.bearer = bearer }
}

public struct WebContext: AuthRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: WebIdentity?
    public let remoteAddress: SocketAddress?
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        identity = nil
        remoteAddress = source.channel.remoteAddress
    }
}

/// The headers every answer carries (a route may set its own Content-Security-Policy, as reports do).
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = WebContext
    func handle(_ request: Request, context: WebContext, next: (Request, WebContext) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        for (name, value) in DashboardApp.securityHeaders {
            let field = HTTPField.Name(name)!
            if response.headers[field] == nil { response.headers[field] = value }
        }
        return response
    }
}

/// Hummingbird's own errors (no route, body too large, method not allowed) in the dashboard's shapes: a JSON
/// body under /api, an HTML page elsewhere, plain text for a worker's metrics server.
struct ErrorPageMiddleware: RouterMiddleware {
    typealias Context = WebContext
    let methods: RouteMethods
    func handle(_ request: Request, context: WebContext, next: (Request, WebContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            guard error.status == .notFound else { return Self.response(error, request) }
            // A path the server has, asked with a method it does not answer there: 405 naming the ones it does.
            let allowed = methods.allowed(request.uri.path).sorted().joined(separator: ", ")
            guard !allowed.isEmpty else { return Self.response(error, request) }
            return Self.response(HTTPError(.methodNotAllowed, headers: [.allow: allowed],
                                           message: "\(request.method.rawValue) is not answered at \(request.uri.path); \(allowed) is"), request)
        }
    }

    static func response(_ error: HTTPError, _ request: Request) -> Response {
        let message = error.body ?? (error.status == .notFound ? "no page at \(request.uri.path)" : error.status.reasonPhrase)
        var headers = error.headers
        let body: [UInt8]
        if request.uri.path.hasPrefix("/api/") {
            headers[.contentType] = "application/json; charset=utf-8"
            body = Array((try? APIJSON.encode(["error": message])) ?? Data())
        } else {
            headers[.contentType] = "text/plain; charset=utf-8"
            body = Array("\(message)\n".utf8)
        }
        return Response(status: error.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Which methods each route pattern answers, learned once the routes are added, so that a known path asked with
/// another method gets 405 and an `Allow` header rather than 404.
final class RouteMethods: @unchecked Sendable {
    // Written once, before the server starts; read-only afterwards.
    private var patterns: [(components: [Substring], method: String)] = []

    func learn(_ routes: [(path: String, method: String)]) {
        patterns = routes.map { (components: $0.path.split(separator: "/"), method: $0.method) }
    }

    func allowed(_ path: String) -> Set<String> {
        let components = path.split(separator: "/")
        return Set(patterns.filter { pattern in
            pattern.components.count == components.count
                && zip(pattern.components, components).allSatisfy { $0.hasPrefix(":") || $0.hasPrefix("{") || $0 == $1 }
        }.map(\.method))
    }
}
