package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/durablectx/durable"
)

// Order is the event the shop submits to the workflow.
type Order struct {
	ID       string `json:"id"`
	Customer string `json:"customer"`
	Items    []Item `json:"items"`
}

// Item is one line of an order.
type Item struct {
	SKU        string `json:"sku"`
	Quantity   int    `json:"quantity"`
	PriceCents int    `json:"priceCents"`
}

// Approval is what the manager sends back through the callback.
type Approval struct {
	Approver string `json:"approver"`
	Note     string `json:"note"`
}

// Receipt is the workflow's result.
type Receipt struct {
	OrderID      string   `json:"orderId"`
	TotalCents   int      `json:"totalCents"`
	Reservations []string `json:"reservations"`
	ChargeID     string   `json:"chargeId"`
	ApprovedBy   string   `json:"approvedBy"`
	Tracking     string   `json:"tracking"`
}

// Timings of the demo: short, so that a run on the real clock takes seconds.
const (
	retryDelay     = time.Second
	coolOff        = 2 * time.Second
	approvalWithin = time.Minute
)

// errGatewayTimeout is what the fake payment gateway answers the first time.
var errGatewayTimeout = errors.New("payment gateway timeout")

// workflow returns the order handler. approvals is the manager's inbox: the
// approval step puts the callback id there, and whoever reads it answers the
// callback through the durable API.
func workflow(approvals chan<- string) func(context.Context, Order) (Receipt, error) {
	return func(ctx context.Context, order Order) (Receipt, error) {
		// A step: its result is recorded, so it runs once per execution.
		total, err := durable.Step(ctx, "validate", func(ctx context.Context) (int, error) {
			if len(order.Items) == 0 {
				return 0, fmt.Errorf("order %s has no items", order.ID)
			}
			total := 0
			for _, it := range order.Items {
				total += it.Quantity * it.PriceCents
			}
			return total, nil
		})
		if err != nil {
			return Receipt{}, err
		}

		// A map: one child context per item, run concurrently.
		reserved, err := durable.Map(ctx, "reserve-stock", order.Items,
			func(ctx context.Context, it Item, _ int) (string, error) {
				return durable.Step(ctx, "reserve "+it.SKU, func(ctx context.Context) (string, error) {
					return fmt.Sprintf("rsv-%s-%d", strings.ToLower(it.SKU), it.Quantity), nil
				})
			},
			durable.WithItemName(func(it Item, _ int) string { return it.SKU }))
		if err != nil {
			return Receipt{}, err
		}
		if err := reserved.Err(); err != nil {
			return Receipt{}, err
		}

		// A retried step: the gateway times out on the first attempt; the
		// retry runs in a later invocation, after a durable delay.
		charge, err := durable.Step(ctx, "charge-card", func(ctx context.Context) (string, error) {
			if durable.StepAttempt(ctx) == 1 {
				return "", errGatewayTimeout
			}
			return fmt.Sprintf("ch-%s-%d", order.ID, total), nil
		}, durable.WithRetry(durable.FixedRetry(3, retryDelay)))
		if err != nil {
			return Receipt{}, err
		}

		// A callback: hand its id to the manager and wait for the answer.
		approval, err := durable.WaitForCallback[Approval](ctx, "manager-approval",
			func(ctx context.Context, callbackID string) error {
				select {
				case approvals <- callbackID:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}, durable.WithTimeout(approvalWithin))
		if err != nil {
			return Receipt{}, err
		}

		// A wait: the function is not running while it lasts.
		if err := durable.Wait(ctx, "cool-off", coolOff); err != nil {
			return Receipt{}, err
		}

		// A child context: two steps grouped under one operation.
		tracking, err := durable.Child(ctx, "ship", func(ctx context.Context) (string, error) {
			parcel, err := durable.Step(ctx, "pack", func(ctx context.Context) (string, error) {
				return "parcel-" + order.ID, nil
			})
			if err != nil {
				return "", err
			}
			return durable.Step(ctx, "label", func(ctx context.Context) (string, error) {
				return "TRK-" + strings.ToUpper(parcel), nil
			})
		})
		if err != nil {
			return Receipt{}, err
		}

		return Receipt{
			OrderID:      order.ID,
			TotalCents:   total,
			Reservations: reserved.Values(),
			ChargeID:     charge,
			ApprovedBy:   approval.Approver,
			Tracking:     tracking,
		}, nil
	}
}
