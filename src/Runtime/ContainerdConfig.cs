using Bulwark.Diagnostics;
using Tomlyn.Model;

namespace Bulwark.Runtime;

/// <summary>
/// containerd's config.toml (version 2), written as a TOML model: its own root, state and socket, the CRI plugin with
/// CNI folders, the sandbox image, runc with the host's cgroup driver, config_path for registry hosts, and registry
/// auth. Never registry.mirrors nor registry.configs.*.tls: with config_path set they silently disable CRI in 1.6.
/// </summary>
public static class ContainerdConfig
{
    public const string CriPlugin = "io.containerd.grpc.v1.cri";

    public static string Render(ContainerdSettings settings, IReadOnlyDictionary<string, RegistryAuth> auths)
    {
        var paths = settings.Paths;
        var runc = new TomlTable
        {
            ["runtime_type"] = "io.containerd.runc.v2",
            ["options"] = new TomlTable { ["SystemdCgroup"] = settings.SystemdCgroup },
        };
        var registry = new TomlTable { ["config_path"] = paths.CertsDir };
        if (auths.Count > 0)
        {
            var configs = new TomlTable();
            foreach (var (host, auth) in auths)
            {
                var table = new TomlTable();
                Set(table, "username", auth.Username);
                Set(table, "password", auth.Password);
                Set(table, "auth", auth.Auth);
                Set(table, "identitytoken", auth.IdentityToken);
                configs[host] = new TomlTable { ["auth"] = table };
            }
            registry["configs"] = configs;
        }
        var cri = new TomlTable
        {
            ["sandbox_image"] = settings.SandboxImage,
            ["enable_selinux"] = settings.Selinux,
            ["restrict_oom_score_adj"] = settings.RestrictOomScoreAdj,
            // Streaming (exec/attach) on loopback and a kernel-chosen port: never the fixed 10010 two nodes would fight over.
            ["stream_server_address"] = "127.0.0.1",
            ["stream_server_port"] = "0",
            ["containerd"] = new TomlTable
            {
                ["snapshotter"] = "overlayfs",
                ["default_runtime_name"] = "runc",
                ["runtimes"] = new TomlTable { ["runc"] = runc },
            },
            ["cni"] = new TomlTable { ["bin_dir"] = settings.CniBinDir, ["conf_dir"] = settings.CniConfDir },
            ["registry"] = registry,
        };
        var root = new TomlTable
        {
            ["version"] = 2L,
            ["root"] = paths.Root,
            ["state"] = paths.State,
            // Nothing is disabled: an entry here naming "cri" is how nodes silently lose the runtime.
            ["disabled_plugins"] = new TomlArray(),
            ["grpc"] = new TomlTable { ["address"] = paths.Socket, ["uid"] = 0L, ["gid"] = 0L },
            ["ttrpc"] = new TomlTable { ["address"] = paths.Socket + ".ttrpc" },
            ["plugins"] = new TomlTable
            {
                [CriPlugin] = cri,
                ["io.containerd.internal.v1.opt"] = new TomlTable { ["path"] = Path.Combine(paths.Root, "opt") },
            },
        };
        // containerd ignores keys it does not know: a key outside its contract would be a setting that silently is not there.
        if (ContainerdConfigContract.BuiltIn.Value.Check(root) is { Count: > 0 } problems)
        {
            throw new BulwarkException(ErrorKind.Bug, $"the rendered containerd config breaks {ContainerdConfigContract.DataFile}:\n  " + string.Join("\n  ", problems));
        }
        return "# Written by Bulwark at every start (do not edit): the node's containerd.\n" + TomlText.Serialize(root);
    }

    private static void Set(TomlTable table, string key, string? value)
    {
        if (value is not null)
        {
            table[key] = value;
        }
    }
}
