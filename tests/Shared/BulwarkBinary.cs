namespace Bulwark.Tests;

/// <summary>
/// The bulwark executable that tests start as a child process. <c>make test</c> sets <see cref="Variable"/> to the
/// published Native AOT binary (dist/bulwark), so an AOT-only failure fails the suite; otherwise the build's apphost.
/// </summary>
public static class BulwarkBinary
{
    public const string Variable = "BULWARK_TEST_BINARY";

    /// <summary>The binary named by <see cref="Variable"/>, or null when tests run the CLI from the build.</summary>
    public static string? Override { get; } = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } path ? System.IO.Path.GetFullPath(path) : null;

    public static string Path => Override ?? System.IO.Path.Combine(RepoPaths.Root, "src", "bin", "Release", "net10.0", "bulwark");
}
