namespace Bulwark.Pipeline;

/// <summary>What kind of failure stopped a pipeline stage; the CLI maps it to an exit code.</summary>
public enum PipelineFailure
{
    /// <summary>Bad input: a file, a policy, a reference (exit 2).</summary>
    Input,

    /// <summary>The gate refused: vulnerabilities over the threshold, a missing or bad signature, a tampered blob (exit 1).</summary>
    Refused,

    /// <summary>A tool or service failed (Trivy, a registry, the disk) (exit 3).</summary>
    Tool,
}

/// <summary>The one error type of the pipeline and air-gap stages: a message that says what, where and how to fix it.</summary>
public sealed class PipelineException(string message, PipelineFailure failure = PipelineFailure.Input, Exception? inner = null) : Exception(message, inner)
{
    public PipelineFailure Failure { get; } = failure;
}
