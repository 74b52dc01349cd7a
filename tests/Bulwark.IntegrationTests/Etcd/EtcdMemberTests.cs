using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Bulwark.Etcd;
using Bulwark.Processes;

namespace Bulwark.Tests.Etcd;

/// <summary>One real etcd 3.4 member under the process supervisor: its start gate, its pid file, its restart and stop.</summary>
public sealed class EtcdMemberTests
{
    private static int PidIn(string pidFile) => int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_member_whose_client_port_is_taken_fails_its_start_with_etcds_reason_and_leaves_no_process_or_pid_file()
    {
        await using var node = await EtcdTestNode.CreateAsync("busy");
        using var squatter = new TcpListener(IPAddress.Loopback, node.ClientUrl.Port);
        squatter.Start();

        var error = await Assert.ThrowsAsync<EtcdStartException>(() => node.StartAsync());

        Assert.Contains("etcd exited with code", error.Message, StringComparison.Ordinal);
        Assert.Contains("address already in use", error.Message, StringComparison.Ordinal);
        Assert.Contains(node.Node.Paths.LogFile, error.Message, StringComparison.Ordinal);
        Assert.Equal(0, node.Member!.Restarts);
        Assert.Null(node.Member.Pid);
        Assert.False(File.Exists(node.Node.Paths.PidFile));
    }

    [Fact]
    public async Task The_pid_file_follows_each_run_and_is_removed_when_the_member_stops()
    {
        await using var node = await EtcdTestNode.CreateAsync("pidfile");
        await node.StartAsync();
        var member = node.Member!;
        var first = member.Pid!.Value;
        Assert.Equal(first, PidIn(node.Node.Paths.PidFile));
        Assert.Equal(AtomicFilePrivate, File.GetUnixFileMode(node.Node.Paths.PidFile));

        Assert.True(Signals.Send(first, Signals.SigKill));
        for (var i = 0; i < 600 && !(member.Restarts >= 1 && member.Pid is { } p && p != first && await member.IsHealthyAsync(TestContext.Current.CancellationToken)); i++)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
        var second = member.Pid!.Value;
        Assert.NotEqual(first, second);
        Assert.Equal(second, PidIn(node.Node.Paths.PidFile));

        await member.StopAsync();
        Assert.False(Signals.IsAlive(second));
        Assert.False(File.Exists(node.Node.Paths.PidFile));
    }

    private const UnixFileMode AtomicFilePrivate = UnixFileMode.UserRead | UnixFileMode.UserWrite;
}
