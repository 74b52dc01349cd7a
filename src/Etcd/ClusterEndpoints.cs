using Bulwark.Diagnostics;
using Bulwark.FileSystem;
using Etcdserverpb;

namespace Bulwark.Etcd;

/// <summary>
/// The etcd client URLs a control-plane-only server (disable-etcd) uses as its datastore: every voting member's, so
/// its clients (kube-apiserver's --etcd-servers, Bulwark's own <see cref="EtcdClient"/>) fail over between them.
/// Kept one a line in <see cref="EtcdPaths.RemoteEndpointsFile"/> (0600) and refreshed from the member list at every start.
/// </summary>
public static class ClusterEndpoints
{
    /// <summary>The voting members' advertised client URLs (learners refuse client requests), each once, in member order.</summary>
    public static IReadOnlyList<Uri> OfVoters(IEnumerable<Member> members) =>
        Parse(members.Where(m => !m.IsLearner).SelectMany(m => m.ClientURLs), "the etcd member list");

    /// <summary>What the file holds; empty when it does not exist (this server has not joined yet).</summary>
    public static IReadOnlyList<Uri> Read(string file) =>
        File.Exists(file) ? Parse(File.ReadAllLines(file).Select(l => l.Trim()).Where(l => l.Length > 0), file) : [];

    public static void Write(string file, IReadOnlyList<Uri> endpoints) =>
        AtomicFile.WriteAllText(file, string.Concat(endpoints.Select(e => Text(e) + "\n")), AtomicFile.Private);

    /// <summary>The URL as etcd and kube-apiserver spell it (no trailing slash).</summary>
    public static string Text(Uri endpoint) => endpoint.GetLeftPart(UriPartial.Authority);

    /// <summary>Asks the cluster (over <paramref name="client"/>'s endpoints, with failover) for its voting members' client URLs.</summary>
    public static async Task<IReadOnlyList<Uri>> FetchAsync(EtcdClient client, CancellationToken cancellationToken) =>
        OfVoters(await client.MemberListAsync(cancellationToken).ConfigureAwait(false));

    /// <summary>The URLs, each once; any that is not a plain https URL is refused, naming <paramref name="source"/>.</summary>
    public static IReadOnlyList<Uri> Parse(IEnumerable<string> urls, string source)
    {
        var parsed = new List<Uri>();
        foreach (var url in urls)
        {
            // Only https: Bulwark talks to etcd over mutual TLS only, and kube-apiserver gets the same list.
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps || uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.UserInfo.Length > 0)
            {
                throw new BulwarkException(ErrorKind.Unavailable, $"{source}: \"{url}\" is not an https etcd client URL such as https://10.0.0.2:2379");
            }
            if (!parsed.Contains(uri))
            {
                parsed.Add(uri);
            }
        }
        return parsed;
    }
}
