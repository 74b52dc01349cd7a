using Bulwark.Operations;

namespace Bulwark.Tests.Operations;

public sealed class StartupMemoryTests
{
    [Fact]
    public void Release_runs_a_blocking_compacting_collection_of_every_generation()
    {
        var fullCollections = GC.CollectionCount(GC.MaxGeneration);

        StartupMemory.Release();

        var last = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        Assert.True(GC.CollectionCount(GC.MaxGeneration) > fullCollections);
        Assert.Equal(GC.MaxGeneration, last.Generation);
        Assert.True(last.Compacted, "the startup garbage's regions are only decommitted when the collection compacts");
    }
}
