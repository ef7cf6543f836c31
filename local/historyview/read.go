package historyview

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Read returns every event of an execution's history, payloads included,
// paging with the SDK's paginator. client is a *lambda.Client or the local
// service's in-process *local.Client.
func Read(ctx context.Context, client lambda.GetDurableExecutionHistoryAPIClient, arn string) ([]types.Event, error) {
	in := &lambda.GetDurableExecutionHistoryInput{DurableExecutionArn: &arn, IncludeExecutionData: aws.Bool(true), MaxItems: 1000}
	var events []types.Event
	for p := lambda.NewGetDurableExecutionHistoryPaginator(client, in); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		events = append(events, out.Events...)
	}
	return events, nil
}
