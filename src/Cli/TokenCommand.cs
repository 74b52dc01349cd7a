using System.CommandLine;
using Bulwark.Config;
using Bulwark.Crypto;
using Bulwark.Diagnostics;
using Bulwark.Etcd;
using Bulwark.Pki;
using Bulwark.Supervisor;

namespace Bulwark.Cli;

/// <summary><c>bulwark token rotate --token OLD --new-token NEW</c> (RKE2's command): run on a server while bulwark server runs there.</summary>
internal static class TokenCommand
{
    public static Command Create(CliEnvironment env) => new("token", "Manage the cluster's server token")
    {
        CreateRotate(env),
    };

    private static Command CreateRotate(CliEnvironment env)
    {
        var newToken = new Option<string>("--new-token")
        {
            Description = $"The new server token: a secret of at least {TokenRotation.MinimumSecretLength} characters (e.g. `openssl rand -hex 24`), or K10<CA hash>::server:<secret>",
            HelpName = "TOKEN",
            Required = true,
        };
        var command = new Command("rotate", "Re-seal the cluster's bootstrap data with a new server token; every server switches to it and the old token is refused afterwards")
        {
            newToken,
        };
        var flags = ConfigFlags.AddTo(command, [ConfigKeys.DataDir, ConfigKeys.EtcdClientPort, ConfigKeys.Token, ConfigKeys.TokenFile, ConfigKeys.FipsMode]);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var config = GlobalOptions.LoadConfig(parse, env, ConfigRole.Server, flags);
            if (config is null)
            {
                return ExitCodes.Usage;
            }
            var old = TokenSource.Server(config)
                ?? throw new BulwarkException(ErrorKind.Usage, "token rotate needs the current token: --token OLD (or token/token-file in the configuration). Nothing was changed.");
            var crypto = CryptoStartup.Start(config).Service;
            var node = EtcdNode.FromConfig(config);
            using var etcd = new EtcdClient(node.ClientOptions());
            env.Out.WriteLine($"Re-sealing the bootstrap data in etcd ({string.Join(", ", node.ClientUrls.Select(ClusterEndpoints.Text))}) with the new token…");
            var result = await new TokenRotation(crypto).RotateAsync(etcd, new ServerPkiPaths(config.DataDir), old, parse.GetValue(newToken)!, cancellationToken);
            env.Out.WriteLine("Token rotated: the bootstrap data is sealed with the new token and the old token's copy is gone.");
            foreach (var file in result.UpdatedFiles)
            {
                env.Out.WriteLine($"  updated {file} (0600)");
            }
            env.Out.WriteLine($"Running servers switch to the new token within {RotationFollower.Interval.TotalSeconds:0} s and refuse the old one.");
            env.Out.WriteLine("Put the new token in the token/token-file settings of every server and agent before their next restart; snapshots taken before now restore with the old token.");
            return ExitCodes.Ok;
        });
        return command;
    }
}
