import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The dashboard's HTTP/1.1 server on SwiftNIO: gathers each request (body capped at 64 KiB, which every form
/// fits), hands it to the app off the event loop, and writes the answer back with keep-alive as asked.
public final class DashboardServer: Sendable {
    private let channel: any Channel
    private let group: MultiThreadedEventLoopGroup

    /// The port actually bound (useful when asked for port 0).
    public var port: Int { channel.localAddress?.port ?? 0 }

    public init(app: DashboardApp, host: String, port: Int) async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.pipeline.configureHTTPServerPipeline().flatMap {
                        channel.pipeline.addHandler(RequestHandler(app: app))
                    }
                }
                .bind(host: host, port: port).get()
        } catch {
            try? await group.shutdownGracefully()
            throw DashboardError.cannotListen(host: host, port: port, reason: "\(error)")
        }
    }

    /// Waits until the server is closed.
    public func run() async throws { try await channel.closeFuture.get() }

    public func close() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

private final class RequestHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let maxBody = 64 * 1024
    let app: DashboardApp
    // Touched only on the channel's event loop.
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false

    init(app: DashboardApp) { self.app = app }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h; body = []; tooLarge = false
        case .body(var buffer):
            if body.count + buffer.readableBytes > Self.maxBody { tooLarge = true; return }
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else { return }
            self.head = nil
            let keepAlive = head.isKeepAlive
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            if tooLarge {
                respond(bound.value, head: head, DashboardResponse.text("request body too large\n", status: 413), keepAlive: false)
                return
            }
            let request = DashboardRequest(method: head.method.rawValue, uri: head.uri,
                                           headers: head.headers.map { ($0.name, $0.value) }, body: body,
                                           remoteAddress: context.channel.remoteAddress?.ipAddress)
            let app = self.app
            let loop = context.eventLoop
            let promise = loop.makePromise(of: DashboardResponse.self)
            promise.completeWithTask { await app.handle(request) }
            promise.futureResult.whenSuccess { response in
                self.respond(bound.value, head: head, response, keepAlive: keepAlive)
            }
        }
    }

    private func respond(_ context: ChannelHandlerContext, head: HTTPRequestHead, _ response: DashboardResponse, keepAlive: Bool) {
        var headers = HTTPHeaders()
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        for (name, value) in DashboardApp.securityHeaders where !headers.contains(name: name) { headers.add(name: name, value: value) }
        headers.add(name: "Content-Length", value: "\(response.body.count)")
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        let status = HTTPResponseStatus(statusCode: response.status)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))), promise: nil)
        }
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { bound.value.close(promise: nil) }
        }
    }
}

public enum DashboardError: Error, CustomStringConvertible {
    case cannotListen(host: String, port: Int, reason: String)
    case tokenRequired(host: String)
    public var description: String {
        switch self {
        case let .cannotListen(host, port, reason): return "cannot listen on \(host):\(port): \(reason)"
        case .tokenRequired(let host):
            return "\(host) is not a loopback address: anyone who can reach it could steer the queue; give --token (or use --host 127.0.0.1)"
        }
    }
}
