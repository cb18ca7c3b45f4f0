package main

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/jwtapi/jwtapi/jwtapitest"
)

// TestOrdersStack is how a team tests its own stack with the jwtapi test
// kit: cdk-nag, a snapshot (go test -update rewrites it), no route open
// unless listed as public, and CloudFormation's schemas through cfn-lint.
func TestOrdersStack(t *testing.T) {
	app := awscdk.NewApp(nil)
	if err := ordersStack(app, "https://login.orders.example.com/"); err != nil {
		t.Fatal(err)
	}
	stack := awscdk.Stack_Of(app.Node().FindChild(jsii.String("OrdersService")))
	jwtapitest.Nag(t, stack)
	tpl := jwtapitest.Synth(t, stack)
	tpl.Snapshot(t, "testdata/orders.template.json")
	tpl.OnlyPublicRoutesOpen(t, "GET /health")
	tpl.CfnLint(t, nil)
}
