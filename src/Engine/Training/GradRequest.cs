using Amalgam.Engine.Autodiff;
using Amalgam.Kernels;

namespace Amalgam.Engine.Training;

/// <summary>What `amalgam grad` computes: the mean gradient of <see cref="Loss"/> over the samples in
/// <see cref="Data"/> w.r.t. the initializers matching <see cref="Params"/>, written to <see cref="Out"/>.</summary>
public sealed record GradRequest
{
    /// <summary>The ONNX model.</summary>
    public required string Model { get; init; }

    /// <summary>Inputs: .npy (single-input models) or .safetensors named after the model's inputs; first axis = samples.</summary>
    public required string Data { get; init; }

    /// <summary>Labels (.npy of int64, one per sample); required for cross-entropy, not allowed otherwise.</summary>
    public string? Labels { get; init; }

    /// <summary>Entropy, CrossEntropy or HalfSumOfSquares (ArgmaxLogProbability works too).</summary>
    public required GradientLoss Loss { get; init; }

    /// <summary>Regex (searched, not anchored) over initializer names; null = every float initializer.</summary>
    public string? Params { get; init; }

    /// <summary>The output .safetensors file.</summary>
    public required string Out { get; init; }

    /// <summary>Samples per forward/backward pass; the result does not depend on it beyond float rounding.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Gradient sessions run side by side, one thread each (0 = one per core); the output does not depend on it.</summary>
    public int Threads { get; init; }

    /// <summary>Where the gradient graphs run (CUDA needs the GPU flavour).</summary>
    public ComputeDevice Device { get; init; } = ComputeDevice.Cpu;

    public IProgress<GradProgress>? Progress { get; init; }
}

/// <summary>What `amalgam grad` did.</summary>
public sealed record GradResult(long Samples, int Parameters, long Elements, double MeanLoss, double Seconds, string Out);
