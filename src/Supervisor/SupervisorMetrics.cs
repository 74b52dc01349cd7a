using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Bulwark.Supervisor;

/// <summary>Counters of the supervisor API, rendered in the Prometheus text format for <c>GET /metrics</c>.</summary>
public sealed class SupervisorMetrics
{
    private readonly ConcurrentDictionary<(string Route, int Status), long> _requests = new();
    private long _authFailures;
    private long _rateLimited;
    private long _certificatesSigned;
    private long _etcdJoins;

    public void Request(string route, int status) => _requests.AddOrUpdate((route, status), 1, (_, n) => n + 1);

    public void AuthFailure() => Interlocked.Increment(ref _authFailures);

    public void RateLimited() => Interlocked.Increment(ref _rateLimited);

    public void CertificateSigned() => Interlocked.Increment(ref _certificatesSigned);

    public void EtcdJoin() => Interlocked.Increment(ref _etcdJoins);

    public long AuthFailures => Interlocked.Read(ref _authFailures);

    public long RateLimitedCount => Interlocked.Read(ref _rateLimited);

    public long CertificatesSigned => Interlocked.Read(ref _certificatesSigned);

    public string Render()
    {
        var text = new StringBuilder();
        text.Append("# HELP bulwark_supervisor_requests_total Supervisor API requests by route and status.\n");
        text.Append("# TYPE bulwark_supervisor_requests_total counter\n");
        foreach (var ((route, status), count) in _requests.OrderBy(p => p.Key.Route, StringComparer.Ordinal).ThenBy(p => p.Key.Status))
        {
            text.Append(CultureInfo.InvariantCulture, $"bulwark_supervisor_requests_total{{route=\"{route}\",code=\"{status}\"}} {count}\n");
        }
        Counter(text, "bulwark_supervisor_auth_failures_total", "Requests with missing or wrong credentials.", AuthFailures);
        Counter(text, "bulwark_supervisor_rate_limited_total", "Requests refused because their address failed authentication too often.", RateLimitedCount);
        Counter(text, "bulwark_supervisor_certificates_signed_total", "Node certificates signed.", CertificatesSigned);
        Counter(text, "bulwark_supervisor_etcd_joins_total", "etcd learners added for joining servers.", Interlocked.Read(ref _etcdJoins));
        return text.ToString();
    }

    private static void Counter(StringBuilder text, string name, string help, long value)
    {
        text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n");
    }
}
