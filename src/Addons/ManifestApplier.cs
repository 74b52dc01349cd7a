using System.Security.Cryptography;
using Bulwark.Kube;

namespace Bulwark.Addons;

/// <summary>How one manifest file went in an apply pass.</summary>
public sealed record ManifestFileOutcome(string File, string Outcome, IReadOnlyList<AppliedObject> Objects);

/// <summary>
/// Delivers server/manifests to the cluster: server-side apply (<c>application/apply-patch+yaml</c>, field manager
/// <see cref="FieldManager"/>, force) of every object through Bulwark's API client, only for files that changed since the
/// record; honours <c>*.skip</c> files; deletes the objects of disabled add-ons, of removed files, and those dropped from a file.
/// </summary>
public sealed class ManifestApplier(KubeApiClient client, ApiResourceTable resources, string recordPath)
{
    public const string FieldManager = "bulwark";

    public async Task<IReadOnlyList<ManifestFileOutcome>> ApplyAsync(string directory, IReadOnlySet<string> disabled, CancellationToken cancellationToken)
    {
        var previous = AppliedRecord.Load(recordPath);
        var next = new List<AppliedFile>();
        var outcomes = new List<ManifestFileOutcome>();
        var listed = ManifestFiles.List(directory);
        try
        {
            foreach (var file in listed)
            {
                var addon = Path.GetFileNameWithoutExtension(file);
                var before = previous.Find(file);
                if (disabled.Contains(addon))
                {
                    var gone = (before?.Objects ?? []).Concat(ManifestObject.Read(file, resources).Select(o => o.Ref)).Distinct().ToList();
                    await DeleteAllAsync(gone, cancellationToken).ConfigureAwait(false);
                    outcomes.Add(new ManifestFileOutcome(file, $"disabled ({addon} is in disable): {gone.Count} objects deleted", gone));
                    continue;
                }
                var hash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file)));
                if (before?.Sha256 == hash)
                {
                    next.Add(before);
                    outcomes.Add(new ManifestFileOutcome(file, "unchanged", before.Objects));
                    continue;
                }
                var objects = ManifestObject.Read(file, resources);
                foreach (var item in objects)
                {
                    await ApplyAsync(item, cancellationToken).ConfigureAwait(false);
                }
                var dropped = (before?.Objects ?? []).Except(objects.Select(o => o.Ref)).ToList();
                await DeleteAllAsync(dropped, cancellationToken).ConfigureAwait(false);
                next.Add(new AppliedFile(file, hash, objects.Select(o => o.Ref).ToList()));
                outcomes.Add(new ManifestFileOutcome(file, $"applied {objects.Count} objects{(dropped.Count > 0 ? $", deleted {dropped.Count} no longer in the file" : "")}",
                    objects.Select(o => o.Ref).ToList()));
            }
            var skipped = ManifestFiles.Skipped(directory).ToHashSet(StringComparer.Ordinal);
            foreach (var old in previous.Files.Where(f => !listed.Contains(f.File)))
            {
                if (skipped.Contains(old.File))
                {
                    // A .skip file stops Bulwark from managing the manifest; what was applied stays as it is.
                    next.Add(old);
                    outcomes.Add(new ManifestFileOutcome(old.File, "skipped (.skip file): left as applied", old.Objects));
                    continue;
                }
                await DeleteAllAsync(old.Objects, cancellationToken).ConfigureAwait(false);
                outcomes.Add(new ManifestFileOutcome(old.File, $"removed from {directory}: {old.Objects.Count} objects deleted", old.Objects));
            }
        }
        finally
        {
            // Record what reached the cluster even when a later file failed, so the next pass resumes from there.
            foreach (var kept in previous.Files.Where(f => next.All(n => n.File != f.File) && outcomes.All(o => o.File != f.File)))
            {
                next.Add(kept);
            }
            new AppliedRecord(next.OrderBy(f => f.File, StringComparer.Ordinal).ToList()).Save(recordPath);
        }
        return outcomes;
    }

    /// <summary>One object by server-side apply. The body is JSON, which is valid apply-patch YAML.</summary>
    public async Task ApplyAsync(ManifestObject item, CancellationToken cancellationToken)
    {
        try
        {
            await client.ApplyAsync(item.Resource.PathOf(item.Namespace, item.Name), item.Body.ToJsonString(), FieldManager, cancellationToken).ConfigureAwait(false);
        }
        catch (KubeApiException e)
        {
            throw new AddonException($"{item.File}:{item.Line}: the apiserver refused {item.Resource.Kind} {item.Name}: {(int)e.Status} {e.Reason}", Diagnostics.ErrorKind.Unavailable);
        }
    }

    private async Task DeleteAllAsync(IEnumerable<AppliedObject> objects, CancellationToken cancellationToken)
    {
        foreach (var item in objects)
        {
            await DeleteAsync(item, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Deletes one object; already gone is fine.</summary>
    public async Task DeleteAsync(AppliedObject item, CancellationToken cancellationToken)
    {
        var r = resources.Find(item.ApiVersion, item.Kind) ?? throw new AddonException($"{item}: {item.ApiVersion} {item.Kind} is not in {ApiResourceTable.DataFile}");
        try
        {
            await client.DeleteAsync(r.PathOf(item.Namespace, item.Name), cancellationToken).ConfigureAwait(false);
        }
        catch (KubeApiException e)
        {
            throw new AddonException($"the apiserver refused to delete {item}: {(int)e.Status} {e.Reason}", Diagnostics.ErrorKind.Unavailable);
        }
    }
}
