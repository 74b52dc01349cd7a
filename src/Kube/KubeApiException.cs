using System.Net;
using Bulwark.Diagnostics;

namespace Bulwark.Kube;

/// <summary>The apiserver answered with an error status; <see cref="Reason"/> is its Status message (or the start of the body).</summary>
public sealed class KubeApiException(string method, string path, HttpStatusCode status, string reason)
    : BulwarkException(ErrorKind.Unavailable, $"the apiserver answered {method} {path} with {(int)status} {status}: {reason}")
{
    public HttpStatusCode Status { get; } = status;

    public string Reason { get; } = reason;
}
