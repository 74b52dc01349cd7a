namespace Bulwark.Addons;

/// <summary>One API resource as discovery names it: where its objects live (group, version, plural) and whether namespaced.</summary>
public sealed record ApiResource(string ApiVersion, string Kind, string Plural, bool Namespaced)
{
    public string Group => ApiVersion.Contains('/') ? ApiVersion[..ApiVersion.IndexOf('/')] : "";
    public string Version => ApiVersion.Contains('/') ? ApiVersion[(ApiVersion.IndexOf('/') + 1)..] : ApiVersion;
    public bool IsCore => Group.Length == 0;

    /// <summary>The REST path of one object (<paramref name="ns"/> is ignored for cluster-scoped resources).</summary>
    public string PathOf(string? ns, string name) =>
        (IsCore ? $"/api/{Version}" : $"/apis/{Group}/{Version}")
        + (Namespaced && ns is not null ? $"/namespaces/{Uri.EscapeDataString(ns)}" : "")
        + $"/{Plural}/{Uri.EscapeDataString(name)}";
}
