package local

import (
	"errors"
	"fmt"
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Error codes the service answers with. They are the exception names of the
// Lambda API model; HTTP responses carry them in X-Amzn-ErrorType.
const (
	codeInvalidParameter   = "InvalidParameterValueException"
	codeInvalidContent     = "InvalidRequestContentException"
	codeNotFound           = "ResourceNotFoundException"
	codeService            = "ServiceException"
	codeTooManyRequests    = "TooManyRequestsException"
	codeCallbackTimeout    = "CallbackTimeoutException"
	codeAlreadyStarted     = "DurableExecutionAlreadyStartedException"
	codeRequestTooLarge    = "RequestTooLargeException"
	codeUnknownOperation   = "UnknownOperationException"
	codeUnsupportedMedia   = "UnsupportedMediaTypeException"
	msgInvalidToken        = "Invalid Checkpoint Token"
	msgServiceClosed       = "durable: the local service is closed"
	serviceID              = "Lambda"
	errTypeUser            = "User"
	errTypeService         = "Service"
	httpStatusClientClosed = 499
)

// apiError is an error of the durable API, before it is dressed as the real
// client's error (Client) or written as an HTTP response (Handler).
type apiError struct {
	code   string
	status int
	msg    string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func invalidParam(format string, args ...any) *apiError {
	return &apiError{codeInvalidParameter, http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

func invalidToken() *apiError {
	return &apiError{codeInvalidParameter, http.StatusBadRequest, msgInvalidToken}
}

func notFound(format string, args ...any) *apiError {
	return &apiError{codeNotFound, http.StatusNotFound, fmt.Sprintf(format, args...)}
}

func serviceError(format string, args ...any) *apiError {
	return &apiError{codeService, http.StatusInternalServerError, fmt.Sprintf(format, args...)}
}

func callbackTimedOut(format string, args ...any) *apiError {
	return &apiError{codeCallbackTimeout, http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

func alreadyStarted(format string, args ...any) *apiError {
	return &apiError{codeAlreadyStarted, http.StatusConflict, fmt.Sprintf(format, args...)}
}

func tooLarge(format string, args ...any) *apiError {
	return &apiError{codeRequestTooLarge, http.StatusRequestEntityTooLarge, fmt.Sprintf(format, args...)}
}

func invalidContent(format string, args ...any) *apiError {
	return &apiError{codeInvalidContent, http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// asAPIError turns any error of the core into an apiError; unexpected errors
// become ServiceException so that nothing leaks as a bare Go error.
func asAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	return serviceError("durable: internal error: %v", err)
}

// typed returns the exception type the real Lambda client would decode for e,
// so errors.As with the SDK's exception types works on in-process errors too.
func (e *apiError) typed() smithy.APIError {
	msg := e.msg
	user := errTypeUser
	switch e.code {
	case codeInvalidParameter:
		return &types.InvalidParameterValueException{Message: &msg, Type: &user}
	case codeInvalidContent:
		return &types.InvalidRequestContentException{Message: &msg, Type: &user}
	case codeNotFound:
		return &types.ResourceNotFoundException{Message: &msg, Type: &user}
	case codeService:
		svc := errTypeService
		return &types.ServiceException{Message: &msg, Type: &svc}
	case codeTooManyRequests:
		return &types.TooManyRequestsException{Message: &msg, Type: &user}
	case codeCallbackTimeout:
		return &types.CallbackTimeoutException{Message: &msg, Type: &user}
	case codeAlreadyStarted:
		return &types.DurableExecutionAlreadyStartedException{Message: &msg, Type: &user}
	case codeRequestTooLarge:
		return &types.RequestTooLargeException{Message: &msg, Type: &user}
	case codeUnsupportedMedia:
		return &types.UnsupportedMediaTypeException{Message: &msg, Type: &user}
	}
	fault := smithy.FaultClient
	if e.status >= 500 {
		fault = smithy.FaultServer
	}
	return &smithy.GenericAPIError{Code: e.code, Message: msg, Fault: fault}
}

// clientError wraps err the way *lambda.Client does: an *smithy.OperationError
// around an *awshttp.ResponseError (which carries the HTTP status code) around
// the typed exception. Callers that classify errors by API code, by message or
// by HTTP status see the same thing in process as over the wire.
func clientError(op string, err error) error {
	if err == nil {
		return nil
	}
	ae := asAPIError(err)
	return &smithy.OperationError{
		ServiceID:     serviceID,
		OperationName: op,
		Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{
					StatusCode: ae.status,
					Header:     http.Header{"X-Amzn-Errortype": []string{ae.code}},
				}},
				Err: ae.typed(),
			},
			RequestID: newRequestID(),
		},
	}
}
