import Hummingbird

/// The router every service starts from.
public enum ServiceRouter {
    /// A router with the shared middleware: request ids, problem+json errors, HTTP metrics,
    /// the request limits, and `Location` and `ETag` headers sent as set. Add the service's API and ``OperationsRoutes``.
    public static func make() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: HTTPMetricsMiddleware())
        router.add(middleware: ProblemMiddleware())
        router.add(middleware: RequestLimitsMiddleware())
        router.add(middleware: VerbatimHeadersMiddleware())
        return router
    }
}
