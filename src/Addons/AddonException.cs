using Bulwark.Diagnostics;

namespace Bulwark.Addons;

/// <summary>An add-on manifest or its user override is wrong (usage), a change is refused, or the cluster refused it (unavailable): what, where (file:line) and how to fix.</summary>
public sealed class AddonException(string message, ErrorKind kind = ErrorKind.Usage) : BulwarkException(kind, message);
