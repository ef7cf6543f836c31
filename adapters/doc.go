// Package adapters connects durable handlers with the rest of the Lambda Go
// ecosystem: [Handler] turns a typed func(context.Context, In) (Out, error)
// into a lambda.Handler, [Chain] composes func(lambda.Handler)
// lambda.Handler middleware, and [Start] runs the result. [NewLogger] builds
// the production logger: Lambda's JSON log format, fanned out to other slog
// handlers, with the durable fields CloudWatch filters on.
//
//	func main() {
//		adapters.Start(adapters.Handler(process),
//			middleware.Durable(middleware.WithLogger(adapters.NewLogger())))
//	}
package adapters
