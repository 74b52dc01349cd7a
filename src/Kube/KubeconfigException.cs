using Bulwark.Diagnostics;

namespace Bulwark.Kube;

/// <summary>A kubeconfig Bulwark cannot use: what is wrong, where (file:line) and what to give instead.</summary>
public sealed class KubeconfigException(string message) : BulwarkException(ErrorKind.Usage, message);
