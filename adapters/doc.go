// Package adapters connects durable handlers with the rest of the Lambda Go
// ecosystem: [Handler] turns a typed func(context.Context, In) (Out, error)
// into a lambda.Handler, [Chain] composes func(lambda.Handler)
// lambda.Handler middleware, and [Start] runs the result.
//
//	func main() {
//		adapters.Start(adapters.Handler(process), middleware.Durable())
//	}
package adapters
