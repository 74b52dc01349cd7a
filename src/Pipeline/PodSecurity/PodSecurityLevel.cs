namespace Bulwark.Pipeline.PodSecurity;

/// <summary>The Pod Security Standards levels that restrict anything; restricted includes every baseline rule.</summary>
public enum PodSecurityLevel
{
    Baseline,
    Restricted,
}
