namespace Bulwark.Pipeline.PodSecurity;

/// <summary>A field that breaks a rule: its full path in the manifest (e.g. spec.template.spec.containers[0].securityContext.privileged) and line.</summary>
public sealed record PodSecurityViolation(PodSecurityRule Rule, string FieldPath, int Line, string Actual, string Expected);
