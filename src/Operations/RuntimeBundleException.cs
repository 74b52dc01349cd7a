namespace Bulwark.Operations;

/// <summary>A runtime bundle was refused (checksum, version, layout) or could not be read; nothing was changed.</summary>
public sealed class RuntimeBundleException(string message) : Exception(message);
