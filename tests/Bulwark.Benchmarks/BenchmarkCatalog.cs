namespace Bulwark.Benchmarks;

/// <summary>A benchmark: a name for the command line, what it measures, and the run that prints its figures.</summary>
public sealed record Benchmark(string Name, string Description, Func<TextWriter, Task> Run);

/// <summary>Every benchmark of `make bench`. Each capability adds its own entry here.</summary>
public static class BenchmarkCatalog
{
    public static IReadOnlyList<Benchmark> All { get; } =
    [
        ConfigBenchmarks.Load,
        CryptoBenchmarks.PkiGeneration,
        CryptoBenchmarks.Issuance,
        CryptoBenchmarks.Seal,
        ControlPlaneBenchmarks.Render,
        AuditBenchmarks.Full,
        SupervisorBenchmarks.AgentJoins,
        AotBenchmarks.Cli,
        EtcdBenchmarks.ServerStart,
        EtcdBenchmarks.Snapshot,
        RuntimeBenchmarks.Import,
        RuntimeBenchmarks.NodeCheckWarm,
        KmsBenchmarks.RoundTrip,
        AirgapBenchmarks.Bundle,
    ];
}
