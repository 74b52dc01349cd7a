using Bulwark.Cli;

using var interrupted = new CancellationTokenSource();
// SIGINT/SIGTERM cancel the run; long-running commands stop their children gracefully and return.
using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, Cancel);
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, Cancel);

try
{
    return await BulwarkCli.RunAsync(args, CliEnvironment.FromProcess(), interrupted.Token);
}
catch (Exception e)
{
    Console.Error.WriteLine($"bulwark: internal error: {e.GetType().Name}: {e.Message}");
    Console.Error.WriteLine("This is a bug in Bulwark; please report it with the command you ran (see SECURITY.md for sensitive reports).");
    return ExitCodes.Internal;
}

void Cancel(System.Runtime.InteropServices.PosixSignalContext context)
{
    context.Cancel = true;
    interrupted.Cancel();
}
