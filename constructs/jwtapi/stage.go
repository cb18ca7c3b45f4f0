package jwtapi

import (
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/jwtapi/jwtapi/internal/cfnmeta"
)

// StageMetadata is the key of the template metadata MarkStage writes.
const StageMetadata = cfnmeta.Stage

var stageLabel = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// MarkStage records in the template of the stack holding scope that it
// belongs to stage ("dev", "prod", "local"). `jwtapi-local serve --stage
// NAME` serves the stacks marked NAME, whatever they are called.
func MarkStage(scope constructs.IConstruct, stage string) error {
	if !stageLabel.MatchString(stage) {
		return propError("stage", "%q must be 1-64 letters, digits, - or _", stage)
	}
	awscdk.Stack_Of(scope).AddMetadata(jsii.String(StageMetadata), stage)
	return nil
}
