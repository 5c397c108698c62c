namespace Amalgam.OnnxIO.Onnx;

/// <summary>How <see cref="OnnxModel.Save"/> stores tensor values.</summary>
public sealed record OnnxSaveOptions
{
    /// <summary>Inline unless the model already uses external data or its tensors pass
    /// <see cref="AutoInlineLimit"/>; then external with a 1 KiB threshold (onnx's own default).</summary>
    public static readonly OnnxSaveOptions Auto = new() { AutoExternalData = true };

    /// <summary>Every tensor inside the .onnx file.</summary>
    public static readonly OnnxSaveOptions Inline = new();

    /// <summary>Every initializer of at least <paramref name="thresholdBytes"/> in one external data file.</summary>
    public static OnnxSaveOptions External(long thresholdBytes = 1024, string? dataFileName = null) =>
        new() { ExternalDataThreshold = thresholdBytes, ExternalDataFileName = dataFileName };

    /// <summary>Inline tensors past this total go external under <see cref="Auto"/> (protobuf's 2 GiB
    /// limit minus room for the graph).</summary>
    public const long AutoInlineLimit = 1536L << 20;

    /// <summary>Non-null: write external data, moving inline tensors of at least this many bytes;
    /// tensors that are already external stay external.</summary>
    public long? ExternalDataThreshold { get; init; }

    /// <summary>Name of the data file in the model's folder; default "&lt;model file name&gt;.data".</summary>
    public string? ExternalDataFileName { get; init; }

    /// <summary>Choose inline or external as described for <see cref="Auto"/>.</summary>
    public bool AutoExternalData { get; init; }
}
