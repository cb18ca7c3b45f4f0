package jwtapi

import (
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53targets"
	"github.com/aws/jsii-runtime-go"
)

var (
	hostname       = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	certificateArn = regexp.MustCompile(`^arn:aws[a-z-]*:acm:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:certificate/[0-9a-f-]{36}$`)
	hostedZoneID   = regexp.MustCompile(`^Z[A-Z0-9]{1,32}$`)
)

// Validate checks the domain as the constructors do, for configuration
// read before any construct is made.
func (d *CustomDomain) Validate() error { return validateDomain(d) }

// validateDomain checks a custom domain without looking anything up: synth
// needs no AWS credentials.
func validateDomain(d *CustomDomain) error {
	if d == nil {
		return nil
	}
	switch {
	case !hostname.MatchString(d.Name):
		return propError("Domain.Name", "%q is not a lower-case domain name such as \"api.example.com\"", d.Name)
	case !certificateArn.MatchString(d.CertificateArn):
		return propError("Domain.CertificateArn", "%q is not an ACM certificate ARN (arn:aws:acm:REGION:ACCOUNT:certificate/ID)", d.CertificateArn)
	case (d.HostedZoneID == "") != (d.ZoneName == ""):
		return propError("Domain.HostedZoneID", "%q with ZoneName %q: give both, or neither", d.HostedZoneID, d.ZoneName)
	case d.HostedZoneID != "" && !hostedZoneID.MatchString(d.HostedZoneID):
		return propError("Domain.HostedZoneID", "%q is not a Route 53 hosted zone id such as \"Z0123456789ABCDEFGHIJ\"", d.HostedZoneID)
	case d.ZoneName != "" && d.Name != d.ZoneName && !strings.HasSuffix(d.Name, "."+strings.TrimSuffix(d.ZoneName, ".")):
		return propError("Domain.ZoneName", "%q does not hold the domain %q", d.ZoneName, d.Name)
	}
	return nil
}

// addDomain serves the API's $default stage on the custom domain, with an
// alias record in the hosted zone when one is given.
func (a *HttpApi) addDomain(d CustomDomain) {
	a.domainName = d.Name
	a.domain = awsapigatewayv2.NewDomainName(a, jsii.String("Domain"), &awsapigatewayv2.DomainNameProps{
		DomainName:  jsii.String(d.Name),
		Certificate: awscertificatemanager.Certificate_FromCertificateArn(a, jsii.String("Certificate"), jsii.String(d.CertificateArn)),
		// Security: TLS 1.0 and 1.1 are deprecated; clients of a JWT API send bearer tokens.
		SecurityPolicy: awsapigatewayv2.SecurityPolicy_TLS_1_2,
	})
	awsapigatewayv2.NewApiMapping(a, jsii.String("DomainMapping"), &awsapigatewayv2.ApiMappingProps{
		Api: a.api, DomainName: a.domain, Stage: a.stage,
	})
	if d.HostedZoneID == "" {
		return
	}
	zone := awsroute53.HostedZone_FromHostedZoneAttributes(a, jsii.String("Zone"), &awsroute53.HostedZoneAttributes{
		HostedZoneId: jsii.String(d.HostedZoneID), ZoneName: jsii.String(strings.TrimSuffix(d.ZoneName, ".")),
	})
	awsroute53.NewARecord(a, jsii.String("DomainRecord"), &awsroute53.ARecordProps{
		Zone:       zone,
		RecordName: jsii.String(d.Name + "."),
		Target: awsroute53.RecordTarget_FromAlias(awsroute53targets.NewApiGatewayv2DomainProperties(
			a.domain.RegionalDomainName(), a.domain.RegionalHostedZoneId())),
	})
}

// CustomDomainUrl is https://<Domain.Name>/, or nil without a custom domain.
func (a *HttpApi) CustomDomainUrl() *string {
	if a.domain == nil {
		return nil
	}
	return jsii.String("https://" + a.domainName + "/")
}
