namespace Bulwark.Etcd;

/// <summary>
/// The cluster token as the snapshot capability uses it: each snapshot records a fresh salted fingerprint of it, and a
/// restore checks a snapshot's fingerprint against it. Holds the secret; prints as a placeholder so it never lands in a log.
/// </summary>
public sealed class SnapshotToken(string token)
{
    public static readonly SnapshotToken None = new("");

    public bool IsEmpty => token.Length == 0;

    /// <summary>A new fingerprint (new salt) for one snapshot's metadata; empty when there is no token.</summary>
    public string Fingerprint() => TokenFingerprint.Of(token);

    public bool Matches(string storedFingerprint) => TokenFingerprint.Matches(storedFingerprint, token);

    public override string ToString() => IsEmpty ? "(no cluster token)" : "(cluster token)";
}
