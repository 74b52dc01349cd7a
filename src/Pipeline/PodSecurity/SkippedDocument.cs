namespace Bulwark.Pipeline.PodSecurity;

/// <summary>A manifest document of a kind that has no pod template (a Service, a ConfigMap, a HelmChart…), listed so nothing is silently ignored.</summary>
public sealed record SkippedDocument(string File, int Line, string Kind);
