using Amalgam.Kernels;

namespace Amalgam.Engine.Merging;

/// <summary>
/// Everything one merge needs, as the CLI flags or a YAML config give it. Only
/// <see cref="Method"/>, <see cref="Base"/>, <see cref="Models"/> and <see cref="Out"/> are required.
/// </summary>
public sealed record MergeRequest
{
    /// <summary>Method name as in the registry (`task_arithmetic`, `ties`, ...).</summary>
    public required string Method { get; init; }

    /// <summary>The pretrained model (ONNX file, safetensors file, index json or folder).</summary>
    public required string Base { get; init; }

    /// <summary>Fine-tuned models; their order is the task order.</summary>
    public required IReadOnlyList<string> Models { get; init; }

    /// <summary>Output file (or folder with <see cref="Private"/> or a sharded base).</summary>
    public required string Out { get; init; }

    /// <summary>Method parameters as text (`--set name=value`).</summary>
    public IReadOnlyDictionary<string, string> Set { get; init; } = new Dictionary<string, string>();

    /// <summary>Per-task values set per model (YAML `models[k].parameters`): name -> one entry per task, null = not set.</summary>
    public IReadOnlyDictionary<string, double?[]> PerTask { get; init; } = new Dictionary<string, double?[]>();

    /// <summary>Regex naming task-private parameters (heads); null = everything float is shared.</summary>
    public string? Private { get; init; }

    public ulong Seed { get; init; }

    /// <summary>Worker threads; 0 = <see cref="Parallelism.MaxThreads"/> as it is. Sets that process-wide
    /// cap while the merge runs (restored afterwards), so concurrent merges should leave it 0.</summary>
    public int Threads { get; init; }

    /// <summary>Where the data-dependent methods run their ONNX Runtime sessions (CUDA needs the GPU flavour); training-free methods run no model.</summary>
    public ComputeDevice Device { get; init; } = ComputeDevice.Cpu;

    /// <summary>Output dtype of float tensors (safetensors only); null = the base's dtypes.</summary>
    public DType? OutputDType { get; init; }

    /// <summary>Unlabeled inputs per task, for data-dependent methods (unused by training-free ones).</summary>
    public IReadOnlyList<string> Data { get; init; } = [];

    public IProgress<MergeProgress>? Progress { get; init; }

    /// <summary>Cancels a long data-dependent merge (AdaMerging saves its state first); no output is written.</summary>
    public CancellationToken Cancellation { get; init; }
}
