using Bulwark.ControlPlane;
using Bulwark.Hardening;
using Bulwark.Resources;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Cni;

/// <summary>
/// The host prerequisites of a CNI node (policies/cni/host-prerequisites.yaml), checked by <c>hardening check</c> and the
/// server preflight: iptables present, firewalld and nm-cloud-setup off, NetworkManager told to leave the CNI's interfaces
/// alone, IP forwarding on, and the kernel the CNI needs. Files only, so a host mounted elsewhere (--host-root) works.
/// </summary>
public sealed class CniHostPrerequisites(HostRoot host, CniCatalog catalog, YamlMappingNode data)
{
    public const string DataFile = "policies/cni/host-prerequisites.yaml";
    private const string Check = "cni prerequisite";
    private static readonly string[] Controls = ["CIS-5.3.1"];

    public static CniHostPrerequisites Load(HostRoot host, EmbeddedData data) =>
        new(host, CniCatalog.Load(data), YamlNodes.ParseSingleMapping(data.ReadText(DataFile), DataFile));

    public IReadOnlyList<PreflightFinding> Run(CniSelection selection)
    {
        var r = new YamlNodes.Reader(DataFile);
        var deployed = catalog.For(selection);
        var findings = new List<PreflightFinding>();
        foreach (var check in r.OptionalSequence(data, "checks").Select(n => r.AsMapping(n, "a check")))
        {
            var id = r.NonEmptyString(check, "id");
            var fix = r.NonEmptyString(check, "fix");
            var why = r.NonEmptyString(check, "why");
            PreflightFinding Finding(string subject, bool passed, string current, string expected, string? fixText = null) =>
                new(Check, subject, Controls, passed, current, expected, passed ? why : $"{fixText ?? fix} ({why})");
            switch (r.NonEmptyString(check, "kind"))
            {
                case "program":
                    var found = (r.OptionalStringList(check, "paths") ?? []).FirstOrDefault(p => File.Exists(host.Resolve(p)));
                    findings.Add(Finding(r.NonEmptyString(check, "program"), found is not null, found ?? "not installed", "installed", null));
                    break;
                case "service-inactive":
                    var unit = r.NonEmptyString(check, "unit");
                    var state = UnitState(unit);
                    findings.Add(Finding(unit, state is null, state ?? "not enabled, not running", "disabled and stopped"));
                    break;
                case "file-contains" when deployed.Count > 0:
                    var nmState = UnitState(r.NonEmptyString(check, "only-if-running"));
                    var interfaces = deployed.SelectMany(s => s.Node.NetworkManagerUnmanaged).Distinct().ToList();
                    if (nmState is null || interfaces.Count == 0)
                    {
                        findings.Add(Finding("NetworkManager", true, nmState is null ? "not in use" : "no CNI interfaces to ignore", "ignores the CNI's interfaces"));
                        break;
                    }
                    var path = r.NonEmptyString(check, "path");
                    var text = File.Exists(host.Resolve(path)) ? File.ReadAllText(host.Resolve(path)) : "";
                    var missing = interfaces.Where(i => !text.Contains("interface-name:" + i, StringComparison.Ordinal)).ToList();
                    findings.Add(Finding("NetworkManager", missing.Count == 0,
                        missing.Count == 0 ? $"{path} lists the CNI's interfaces" : $"{nmState}; {path} does not ignore {string.Join(", ", missing)}",
                        "unmanaged-devices lists the CNI's interfaces",
                        $"write {path} with [keyfile] unmanaged-devices={string.Join(';', interfaces.Select(i => "interface-name:" + i))}, then systemctl reload NetworkManager"));
                    break;
                case "sysctl":
                    var name = r.NonEmptyString(check, "name");
                    var expected = r.NonEmptyString(check, "value");
                    var proc = host.Resolve("/proc/sys/" + name.Replace('.', '/'));
                    var current = File.Exists(proc) ? File.ReadAllText(proc).Trim() : "(not present)";
                    findings.Add(Finding(name, current == expected, current, expected));
                    break;
                case "kernel" when deployed.Count > 0:
                    var needed = deployed.MaxBy(s => s.Node.MinKernel)!;
                    var release = File.Exists(host.Resolve("/proc/sys/kernel/osrelease")) ? File.ReadAllText(host.Resolve("/proc/sys/kernel/osrelease")).Trim() : "unknown";
                    var running = KernelVersion(release);
                    findings.Add(Finding("kernel", running is not null && running >= needed.Node.MinKernel, release, $">= {needed.Node.MinKernel} ({needed.Name})"));
                    break;
            }
        }
        return findings;
    }

    /// <summary>"enabled" or "running" (from the unit's wants link or systemd's invocation record), or null when neither.</summary>
    private string? UnitState(string unit)
    {
        if (File.Exists(host.Resolve($"/run/systemd/units/invocation:{unit}")) || Directory.Exists(host.Resolve($"/run/systemd/units/invocation:{unit}")))
        {
            return "running";
        }
        var system = host.Resolve("/etc/systemd/system");
        if (Directory.Exists(system) && Directory.EnumerateDirectories(system, "*.wants").Any(d => File.Exists(Path.Combine(d, unit)) || new FileInfo(Path.Combine(d, unit)).LinkTarget is not null))
        {
            return "enabled";
        }
        return null;
    }

    internal static Version? KernelVersion(string release)
    {
        var numeric = new string(release.TakeWhile(c => char.IsDigit(c) || c == '.').ToArray()).Trim('.');
        return Version.TryParse(numeric.Count(c => c == '.') == 0 ? numeric + ".0" : numeric, out var v) ? v : null;
    }
}
