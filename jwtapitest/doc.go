// Package jwtapitest tests the CloudFormation templates of your own stacks,
// whether or not they use the jwtapi construct:
//
//	func TestOrders(t *testing.T) {
//		app := awscdk.NewApp(nil)
//		stack := myapp.NewOrdersStack(app, "Orders")
//		jwtapitest.Nag(t, stack)                      // cdk-nag AwsSolutions + Serverless, reasons on suppressions
//		tpl := jwtapitest.Synth(t, stack)             // the template, through awscdk/assertions
//		tpl.Snapshot(t, "testdata/orders.template.json") // go test -update rewrites it
//		tpl.OnlyPublicRoutesOpen(t, "GET /health")    // every other route needs a token
//		tpl.CfnLint(t, nil)                           // CloudFormation's schemas, through cfn-lint (CDK's harmless W3005 ignored)
//	}
//
// The package defines the -update test flag; do not define your own.
package jwtapitest
