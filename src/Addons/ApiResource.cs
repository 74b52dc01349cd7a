namespace Bulwark.Addons;

/// <summary>One API resource as discovery names it: where its objects live (group, version, plural) and whether namespaced.</summary>
public sealed record ApiResource(string ApiVersion, string Kind, string Plural, bool Namespaced)
{
    public string Group => ApiVersion.Contains('/') ? ApiVersion[..ApiVersion.IndexOf('/')] : "";
    public string Version => ApiVersion.Contains('/') ? ApiVersion[(ApiVersion.IndexOf('/') + 1)..] : ApiVersion;
    public bool IsCore => Group.Length == 0;
}
