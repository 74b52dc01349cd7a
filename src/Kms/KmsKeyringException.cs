using Bulwark.Diagnostics;

namespace Bulwark.Kms;

/// <summary>The KMS keyring cannot be read, unsealed or written; the message says which file and how to fix it.</summary>
public sealed class KmsKeyringException(string message, Exception? inner = null) : BulwarkException(ErrorKind.Unavailable, message, inner);
