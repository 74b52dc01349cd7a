namespace Bulwark.Addons;

/// <summary>An add-on manifest or its user override is wrong, or the cluster refused it: what, where (file:line) and how to fix.</summary>
public sealed class AddonException(string message) : Exception(message);
