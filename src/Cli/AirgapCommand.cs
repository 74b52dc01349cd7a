using System.CommandLine;
using Bulwark.Airgap;
using Bulwark.Config;
using Bulwark.Crypto;
using Bulwark.Pipeline;
using Bulwark.Pipeline.PodSecurity;
using Bulwark.Resources;
using Bulwark.Runtime;

namespace Bulwark.Cli;

/// <summary><c>bulwark airgap bundle|verify|import</c>: one signed archive across the air gap, verified before anything is imported.</summary>
internal static class AirgapCommand
{
    private static readonly Option<string[]> Keys = new("--key") { Description = "Public key(s) (PEM) the bundle must be signed with", HelpName = "PUB", Required = true };
    private static readonly Option<bool> RequireScan = new("--require-scan") { Description = "Refuse images that were bundled without a vulnerability scan" };
    private static readonly Option<string> Ignore = new("--ignore") { Description = "Accepted vulnerabilities: .trivyignore or the YAML form (default: pipeline/ignore.yaml)", HelpName = "FILE" };
    private static readonly Option<string[]> Vex = new("--vex") { Description = "OpenVEX document(s) to honour", HelpName = "FILE" };
    private static readonly Option<string> PssLevel =
        ScanCommand.PodSecurityLevelOption("--pss-level", "Pod Security Standards level carried manifests must pass (restricted includes baseline)");

    public static Command Create(CliEnvironment env) => new("airgap", "Air-gapped installs: bundle images with SBOMs, scans and signatures; verify; import")
    {
        CreateBundle(env),
        CreateVerify(env),
        CreateImport(env),
    };

    private static Command CreateBundle(CliEnvironment env)
    {
        var output = new Option<string>("--output-file") { Description = "The bundle archive to write", HelpName = "FILE", Required = true };
        var signingKey = new Option<string>("--signing-key") { Description = "Operator's private key (PEM, 0600): ECDSA P-256/P-384 or RSA-3072", HelpName = "KEY", Required = true };
        var images = new Option<string[]> ("--images") { Description = "File(s) with one image reference per line", HelpName = "FILE" };
        var imageList = new Option<string[]>("--image-list") { Description = "Built-in image lists under pipeline/images (default: bulwark unless --images is given)", HelpName = "NAME" };
        var platforms = new Option<string[]>("--platform") { Description = "Platform(s) to bundle (default linux/amd64)", HelpName = "OS/ARCH" };
        var files = new Option<string[]>("--files") { Description = "Extra files (runtime bundle, chart archives) to carry", HelpName = "FILE" };
        var registries = new Option<string>("--registries") { Description = "registries.yaml with mirrors, credentials and CAs for pulling", HelpName = "FILE" };
        var manifests = new Option<string[]>("--manifests") { Description = "Manifest file(s) or folder(s) to carry; each must pass the Pod Security Standards at --pss-level", HelpName = "PATH" };
        var trivyCache = new Option<string>("--trivy-cache") { Description = "Prepared Trivy cache dir (db/trivy.db, db/metadata.json); scans every image", HelpName = "DIR" };
        var command = new Command("bundle", "Pull images into one signed archive (OCI layout, index with sha256 of every file, SBOM and scan per image)")
        {
            output, signingKey, images, imageList, platforms, files, manifests, PssLevel, registries, trivyCache, Ignore, Vex,
        };
        command.SetAction((parse, cancellationToken) => Run(env, async () =>
        {
            var crypto = CryptoService.For(FipsMode.On);
            var references = new List<ImageReference>();
            foreach (var file in parse.GetValue(images) ?? [])
            {
                references.AddRange(ReadImageList(File.Exists(file) ? File.ReadAllText(file) : throw new PipelineException($"--images {file}: no such file"), file));
            }
            var lists = parse.GetValue(imageList) is { Length: > 0 } named ? named : references.Count == 0 ? ["bulwark"] : [];
            foreach (var name in lists)
            {
                var path = $"pipeline/images/{name}.txt";
                references.AddRange(ReadImageList(EmbeddedData.BuiltIn.ReadText(path), path));
            }
            var chosenPlatforms = (parse.GetValue(platforms) is { Length: > 0 } p ? p : ["linux/amd64"]).Select(OciPlatform.Parse).ToList();
            using var key = new ArtifactSigner(crypto).LoadPrivateKey(parse.GetValue(signingKey)!);
            (TrivyStage, string, GatePolicy)? trivy = null;
            if (parse.GetValue(trivyCache) is { } cache)
            {
                var settings = PipelineSettings.Load(EmbeddedData.BuiltIn);
                trivy = (new TrivyStage(settings.Trivy, crypto, TimeProvider.System), cache, LoadPolicy(parse, settings));
            }
            var registriesFile = parse.GetValue(registries) is { } r ? Runtime.RegistriesFile.Load(r) : Runtime.RegistriesFile.Empty;
            var request = new BundleRequest(references.DistinctBy(i => i.ToString()).ToList(), chosenPlatforms, parse.GetValue(files) ?? [], registriesFile, key,
                parse.GetValue(output)!, BuildInfo.Current.Version, trivy, parse.GetValue(manifests), ManifestGateFor(parse));
            var index = await new BundleWriter(crypto, TimeProvider.System, new TransferProgress(env.Error, env.IsTerminal)).WriteAsync(request, cancellationToken);
            env.Out.WriteLine($"wrote {request.Output}: {index.Images.Count} image(s), {index.Files.Count} files, {index.Files.Sum(f => f.Size) / 1048576.0:0.0} MiB; index signed");
            foreach (var image in index.Images)
            {
                env.Out.WriteLine($"  {image.Name} {image.Platform} {image.Digest}{(image.NotScanned is { } why ? "  (not scanned: " + why + ")" : "")}");
            }
            if (index.Manifests is { } carried)
            {
                env.Out.WriteLine($"  {carried.Files.Count} manifest file(s), {carried.Workloads} workload(s): Pod Security Standards {carried.Level} passed");
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command CreateVerify(CliEnvironment env)
    {
        var bundle = new Argument<string>("BUNDLE") { Description = "The bundle archive" };
        var command = new Command("verify", "Check every digest, the index signature, each image signature and the gate with the local policy")
        {
            bundle, Keys, RequireScan, Ignore, Vex, PssLevel,
        };
        command.SetAction((parse, cancellationToken) => Run(env, async () =>
        {
            var crypto = CryptoService.For(FipsMode.On);
            var keyFiles = parse.GetValue(Keys)!;
            var keys = new ArtifactSigner(crypto).LoadPublicKeys(keyFiles);
            var result = await new BundleVerifier(crypto, TimeProvider.System).VerifyAsync(parse.GetValue(bundle)!, keys, keyFiles,
                LoadPolicy(parse, PipelineSettings.Load(EmbeddedData.BuiltIn)), parse.GetValue(RequireScan), ManifestGateFor(parse), null,
                new TransferProgress(env.Error, env.IsTerminal), cancellationToken);
            WriteVerification(env, result);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command CreateImport(CliEnvironment env)
    {
        var bundle = new Argument<string>("BUNDLE") { Description = "The bundle archive" };
        var registry = new Option<string>("--registry") { Description = "Push into this private registry", HelpName = "HOST:PORT" };
        var caFile = new Option<string>("--ca-file") { Description = "CA of the private registry", HelpName = "FILE" };
        var username = new Option<string>("--username") { Description = "User for the private registry", HelpName = "USER" };
        var passwordFile = new Option<string>("--password-file") { Description = "File holding the registry password", HelpName = "FILE" };
        var imagesDir = new Option<string>("--images-dir") { Description = "Write image archives here for containerd (default with no --registry: <data-dir>/agent/images)", HelpName = "DIR" };
        var manifestsDir = new Option<string>("--manifests-dir") { Description = "Write the bundle's manifests here (e.g. <data-dir>/server/manifests, which the server applies)", HelpName = "DIR" };
        var noRegistriesFile = new Option<bool>("--no-registries-file") { Description = "Do not write the mirror entries into registries.yaml (private-registry)" };
        var command = new Command("import", "Verify a bundle, then import it into a private registry and/or the node's agent/images")
        {
            bundle, Keys, RequireScan, Ignore, Vex, PssLevel, registry, caFile, username, passwordFile, imagesDir, manifestsDir, noRegistriesFile,
        };
        var flags = ConfigFlags.AddTo(command, [ConfigKeys.DataDir, ConfigKeys.PrivateRegistry]);
        command.SetAction((parse, cancellationToken) => Run(env, async () =>
        {
            var config = GlobalOptions.LoadConfig(parse, env, ConfigRole.Agent, flags);
            if (config is null)
            {
                return ExitCodes.Usage;
            }
            var crypto = CryptoService.For(FipsMode.On);
            var keyFiles = parse.GetValue(Keys)!;
            RegistryEndpoint? target = null;
            if (parse.GetValue(registry) is { } host)
            {
                var password = parse.GetValue(passwordFile) is { } pf ? File.ReadAllText(pf).TrimEnd('\n', '\r') : null;
                target = new RegistryEndpoint(new Uri($"https://{host}"), parse.GetValue(username), password, parse.GetValue(caFile));
            }
            var images = parse.GetValue(imagesDir) ?? (target is null ? Path.Combine(config.DataDir, "agent", "images") : null);
            var request = new ImportRequest(parse.GetValue(bundle)!, new ArtifactSigner(crypto).LoadPublicKeys(keyFiles), keyFiles,
                LoadPolicy(parse, PipelineSettings.Load(EmbeddedData.BuiltIn)), parse.GetValue(RequireScan), target,
                parse.GetValue(noRegistriesFile) ? null : config.Get(ConfigKeys.PrivateRegistry), images, ManifestGateFor(parse), parse.GetValue(manifestsDir));
            var result = await new BundleImporter(crypto, TimeProvider.System, new TransferProgress(env.Error, env.IsTerminal)).ImportAsync(request, cancellationToken);
            WriteVerification(env, result.Verification);
            foreach (var name in result.Pushed)
            {
                env.Out.WriteLine($"pushed {name}");
            }
            foreach (var archive in result.Archives)
            {
                env.Out.WriteLine($"wrote {archive} (containerd imports it on the next start)");
            }
            foreach (var manifest in result.Manifests)
            {
                env.Out.WriteLine($"wrote {manifest} (0600)");
            }
            if (result.RegistriesFile is { } written)
            {
                env.Out.WriteLine($"wrote mirror entries to {written}; set system-default-registry: {target!.Host} in config.yaml so system images come from it");
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static void WriteVerification(CliEnvironment env, BundleVerification result)
    {
        env.Out.WriteLine($"bundle verified: index signed with {result.IndexSignedBy}; {result.Index.Files.Count} files, {result.BytesChecked / 1048576.0:0.0} MiB checked");
        foreach (var image in result.Images)
        {
            var scan = image.Scan is { } s ? $"gate passed ({s.Findings.Count} findings, threshold {s.Threshold})" : $"not scanned";
            env.Out.WriteLine($"  ok  {image.Name} {image.Platform} {image.Digest[..19]}…  signed ({image.SignedBy}), {image.Packages} SBOM components, {scan}");
        }
        if (result.Manifests is { } manifests)
        {
            env.Out.WriteLine($"  ok  {manifests.Files.Count} manifest file(s), {manifests.Workloads.Count} workload(s): Pod Security Standards {manifests.Level.ToString().ToLowerInvariant()} passed");
        }
    }

    private static ManifestGate ManifestGateFor(ParseResult parse) =>
        new(new ManifestScanner(PodSecurityStandards.Load(EmbeddedData.BuiltIn)), ScanCommand.ParseLevel(parse.GetValue(PssLevel)));

    internal static GatePolicy LoadPolicy(ParseResult parse, PipelineSettings settings)
    {
        var ignores = parse.GetValue(Ignore) is { } file ? IgnorePolicy.Load(file) : IgnorePolicy.ParseYaml(EmbeddedData.BuiltIn.ReadText(PipelineSettings.IgnoreFile), PipelineSettings.IgnoreFile);
        var vex = (parse.GetValue(Vex) ?? []).Select(VexDocument.Load).ToList();
        return new GatePolicy(settings.Threshold, settings.FixedOnly, settings.RequireSignatures, ignores, vex);
    }

    internal static IEnumerable<ImageReference> ReadImageList(string text, string path)
    {
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Split('#')[0].Trim();
            if (line.Length > 0)
            {
                yield return BundleImageNames.Parse(line, $"{path}:{i + 1}");
            }
        }
    }

    /// <summary>Maps the pipeline's one error type to exit codes: refused 1, bad input 2, tool failed 3.</summary>
    internal static async Task<int> Run(CliEnvironment env, Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (PipelineException e)
        {
            env.Error.WriteLine($"error: {e.Message}");
            return e.Failure switch
            {
                PipelineFailure.Refused => ExitCodes.Failed,
                PipelineFailure.Tool => ExitCodes.Unavailable,
                _ => ExitCodes.Usage,
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            env.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.Unavailable;
        }
    }
}
