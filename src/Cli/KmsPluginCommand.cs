using System.CommandLine;
using Bulwark.Crypto;
using Bulwark.Kms;
using Bulwark.Operations;

namespace Bulwark.Cli;

/// <summary>
/// <c>bulwark kms-plugin</c> (hidden): the KMS v2 plugin process the server's kms stage runs under its supervisor. It
/// runs its own FIPS self-tests, unseals the keyring from its folder (TPM or 0600 files; nothing secret on argv), serves
/// the socket until SIGTERM or until the server that started it is gone.
/// </summary>
internal static class KmsPluginCommand
{
    public static Command Create(CliEnvironment env)
    {
        var keyring = new Option<string>("--keyring") { Description = "The keyring folder (server/cred/kms)", Required = true };
        var socket = new Option<string>("--socket") { Description = "The unix socket to serve", Required = true };
        var tcti = new Option<string>("--tpm-tcti") { Description = "The TPM's TCTI (for a TPM-sealed keyring)", DefaultValueFactory = _ => KeyProtection.DefaultTcti };
        var fips = new Option<string>("--fips-mode") { Description = "on, strict or off", DefaultValueFactory = _ => "on" };
        var parent = new Option<int>("--parent-pid") { Description = "Stop when this process is no longer the parent", Required = true };
        var command = new Command(KmsPluginProcess.Command, "The KMS v2 plugin process (started by bulwark server)") { keyring, socket, tcti, fips, parent };
        command.Hidden = true;
        command.SetAction(async (parse, cancellationToken) =>
        {
            var crypto = CryptoStartup.Start(FipsModes.Parse(parse.GetValue(fips)!), OpenSslStatus.Read(), SelfTestSuite.BuiltIn).Service;
            var store = new KmsKeyStore(parse.GetValue(keyring)!, new KeyProtection(KeyProtection.Auto, parse.GetValue(tcti)!, ""), crypto);
            await using var plugin = await KmsPlugin.StartAsync(store, crypto, parse.GetValue(socket)!, cancellationToken);
            env.Out.WriteLine($"kms-plugin: serving {plugin.SocketPath}, current key {plugin.Keys.Keyring.Current.Id}, {plugin.Keys.Keyring.Ids.Count} retained");
            StartupMemory.Release();
            try
            {
                await ParentWatch.WaitGoneAsync(parse.GetValue(parent), cancellationToken);
                env.Error.WriteLine("kms-plugin: the server that started this plugin is gone; stopping");
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                env.Out.WriteLine("kms-plugin: stopping (signal)");
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
