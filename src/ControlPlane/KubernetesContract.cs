namespace Bulwark.ControlPlane;

/// <summary>The Kubernetes release this build renders for and runs.</summary>
public static class KubernetesContract
{
    public const string PinnedMinor = "1.32";
}
