using System.Net;
using System.Security.Cryptography;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Bulwark.Addons;

/// <summary>How one manifest file went in an apply pass.</summary>
public sealed record ManifestFileOutcome(string File, string Outcome, IReadOnlyList<AppliedObject> Objects);

/// <summary>
/// Delivers server/manifests to the cluster: server-side apply (<c>application/apply-patch+yaml</c>, field manager
/// <see cref="FieldManager"/>, force) of every object through KubernetesClient.Aot, only for files that changed since the
/// record; honours <c>*.skip</c> files; deletes the objects of disabled add-ons, of removed files, and those dropped from a file.
/// </summary>
public sealed class ManifestApplier(IKubernetes client, ApiResourceTable resources, string recordPath)
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
        var patch = new V1Patch(item.Body.ToJsonString(), V1Patch.PatchType.ApplyPatch);
        var r = item.Resource;
        try
        {
            if (!r.IsCore)
            {
                await (item.Namespace is { } ns
                    ? client.CustomObjects.PatchNamespacedCustomObjectAsync(patch, r.Group, r.Version, ns, r.Plural, item.Name, fieldManager: FieldManager, force: true, cancellationToken: cancellationToken)
                    : client.CustomObjects.PatchClusterCustomObjectAsync(patch, r.Group, r.Version, r.Plural, item.Name, fieldManager: FieldManager, force: true, cancellationToken: cancellationToken)).ConfigureAwait(false);
                return;
            }
            var core = client.CoreV1;
            Task task = r.Kind switch
            {
                "Namespace" => core.PatchNamespaceAsync(patch, item.Name, fieldManager: FieldManager, force: true, cancellationToken: cancellationToken),
                "ServiceAccount" => core.PatchNamespacedServiceAccountAsync(patch, item.Name, item.Namespace, fieldManager: FieldManager, force: true, cancellationToken: cancellationToken),
                "ConfigMap" => core.PatchNamespacedConfigMapAsync(patch, item.Name, item.Namespace, fieldManager: FieldManager, force: true, cancellationToken: cancellationToken),
                "Secret" => core.PatchNamespacedSecretAsync(patch, item.Name, item.Namespace, fieldManager: FieldManager, force: true, cancellationToken: cancellationToken),
                "Service" => core.PatchNamespacedServiceAsync(patch, item.Name, item.Namespace, fieldManager: FieldManager, force: true, cancellationToken: cancellationToken),
                _ => throw new AddonException($"{item.File}:{item.Line}: core kind {r.Kind} has no apply path; add it to ManifestApplier"),
            };
            await task.ConfigureAwait(false);
        }
        catch (HttpOperationException e)
        {
            throw new AddonException($"{item.File}:{item.Line}: the apiserver refused {r.Kind} {item.Name}: {(int)e.Response.StatusCode} {Message(e)}", Diagnostics.ErrorKind.Unavailable);
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
            if (!r.IsCore)
            {
                await (item.Namespace is { } ns
                    ? client.CustomObjects.DeleteNamespacedCustomObjectAsync(r.Group, r.Version, ns, r.Plural, item.Name, cancellationToken: cancellationToken)
                    : client.CustomObjects.DeleteClusterCustomObjectAsync(r.Group, r.Version, r.Plural, item.Name, cancellationToken: cancellationToken)).ConfigureAwait(false);
                return;
            }
            var core = client.CoreV1;
            Task task = r.Kind switch
            {
                "Namespace" => core.DeleteNamespaceAsync(item.Name, cancellationToken: cancellationToken),
                "ServiceAccount" => core.DeleteNamespacedServiceAccountAsync(item.Name, item.Namespace, cancellationToken: cancellationToken),
                "ConfigMap" => core.DeleteNamespacedConfigMapAsync(item.Name, item.Namespace, cancellationToken: cancellationToken),
                "Secret" => core.DeleteNamespacedSecretAsync(item.Name, item.Namespace, cancellationToken: cancellationToken),
                "Service" => core.DeleteNamespacedServiceAsync(item.Name, item.Namespace, cancellationToken: cancellationToken),
                _ => throw new AddonException($"{item}: core kind {r.Kind} has no delete path"),
            };
            await task.ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            // Already gone.
        }
        catch (HttpOperationException e)
        {
            throw new AddonException($"the apiserver refused to delete {item}: {(int)e.Response.StatusCode} {Message(e)}", Diagnostics.ErrorKind.Unavailable);
        }
    }

    private static string Message(HttpOperationException e) => e.Response.Content is { Length: > 0 } body ? body.Length > 400 ? body[..400] + "…" : body : e.Message;
}
