using Bulwark.Diagnostics;

namespace Bulwark.Etcd;

/// <summary>etcd did not become healthy; the message carries the end of its log.</summary>
public sealed class EtcdStartException(string message) : BulwarkException(ErrorKind.Unavailable, message);
