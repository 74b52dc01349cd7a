using Bulwark.Diagnostics;

namespace Bulwark.Kms;

/// <summary>A KMS request the plugin refuses (bad input, unknown key, failed authentication); a gRPC status on the wire.</summary>
public sealed class KmsRequestException(string message) : BulwarkException(ErrorKind.Refused, message);
