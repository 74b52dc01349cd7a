using Bulwark.Diagnostics;

namespace Bulwark.Pki;

/// <summary>The PKI cannot be used as found (incomplete custom CA, expired CA, unreadable key). The message says what to do.</summary>
public sealed class PkiException(string message, Exception? inner = null) : BulwarkException(ErrorKind.Unavailable, message, inner);
