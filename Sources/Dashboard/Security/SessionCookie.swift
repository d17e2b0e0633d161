/// The session cookie's `Set-Cookie` value. `Max-Age` matches the session's absolute lifetime so the browser
/// drops it when the server would; `HttpOnly` keeps it from scripts; `SameSite=Strict` keeps other sites' pages
/// from sending it; `Secure` (behind TLS) keeps it off plain HTTP.
public struct SessionCookie: Sendable, Equatable {
    public var name: String
    public var value: String
    public var maxAge: Int
    public var secure: Bool

    public init(name: String = SessionStore.cookieName, value: String, maxAge: Int, secure: Bool) {
        self.name = name; self.value = value; self.maxAge = maxAge; self.secure = secure
    }

    /// A cookie that removes the session cookie at once (signing out).
    public static func removal(secure: Bool) -> SessionCookie { SessionCookie(value: "", maxAge: 0, secure: secure) }

    public var headerValue: String {
        "\(name)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }
}
