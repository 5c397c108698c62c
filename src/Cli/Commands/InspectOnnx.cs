using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Onnx;

namespace Amalgam.Cli.Commands;

/// <summary>`inspect` for an ONNX model: graph interface, opsets, operator counts, initializers.</summary>
internal static class InspectOnnx
{
    private sealed record Value(string Name, string DType, IReadOnlyList<string> Dims);

    public static void Run(string path, bool json, TextWriter o)
    {
        var model = OnnxModel.Load(path);
        GraphProto g = model.Graph;
        var initializers = model.ListInitializers();
        var initializerNames = initializers.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        // Older exporters also list initializers as graph inputs; the model's real inputs are the rest.
        var inputs = g.Input.Where(v => !initializerNames.Contains(v.Name)).Select(Describe).ToList();
        var outputs = g.Output.Select(Describe).ToList();
        var ops = g.Node.GroupBy(n => string.IsNullOrEmpty(n.Domain) || n.Domain == "ai.onnx" ? n.OpType : $"{n.Domain}.{n.OpType}")
            .OrderByDescending(x => x.Count()).ThenBy(x => x.Key, StringComparer.Ordinal)
            .Select(x => (Op: x.Key, Count: x.Count())).ToList();
        var opsets = model.Proto.OpsetImport.Select(op => (Domain: string.IsNullOrEmpty(op.Domain) ? "ai.onnx" : op.Domain, op.Version)).ToList();
        long Elements(InitializerInfo i) => Shapes.ElementCount(i.Shape);
        long Bytes(InitializerInfo i) => i.DType is { } d ? Elements(i) * d.Size() : 0;
        string TypeName(InitializerInfo i) => i.DType is { } d ? d.ShortName() : OnnxDTypes.OnnxName(i.OnnxDataType).ToLowerInvariant();
        long parameters = initializers.Sum(Elements), bytes = initializers.Sum(Bytes);

        if (json)
        {
            InspectCommand.WriteJson(o, w =>
            {
                w.WriteStartObject();
                w.WriteString("file", path);
                w.WriteString("format", "onnx");
                w.WriteNumber("ir_version", model.Proto.IrVersion);
                w.WriteString("producer", $"{model.Proto.ProducerName} {model.Proto.ProducerVersion}".Trim());
                w.WriteStartObject("opsets");
                foreach (var (domain, version) in opsets) w.WriteNumber(domain, version);
                w.WriteEndObject();
                foreach (var (key, values) in new[] { ("inputs", inputs), ("outputs", outputs) })
                {
                    w.WriteStartArray(key);
                    foreach (var v in values)
                    {
                        w.WriteStartObject();
                        w.WriteString("name", v.Name);
                        w.WriteString("dtype", v.DType);
                        w.WriteStartArray("shape");
                        foreach (string d in v.Dims)
                            if (long.TryParse(d, out long n)) w.WriteNumberValue(n); else w.WriteStringValue(d);
                        w.WriteEndArray();
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                }
                w.WriteNumber("nodes", g.Node.Count);
                w.WriteStartObject("ops");
                foreach (var (op, count) in ops) w.WriteNumber(op, count);
                w.WriteEndObject();
                w.WriteStartArray("initializers");
                foreach (var i in initializers)
                {
                    w.WriteStartObject();
                    w.WriteString("name", i.Name);
                    w.WriteString("dtype", TypeName(i));
                    InspectCommand.WriteShape(w, i.Shape);
                    w.WriteNumber("parameters", Elements(i));
                    w.WriteNumber("bytes", Bytes(i));
                    w.WriteBoolean("external", i.IsExternal);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteNumber("total_parameters", parameters);
                w.WriteNumber("total_bytes", bytes);
                w.WriteEndObject();
            });
            return;
        }

        o.WriteLine($"{path} (onnx, IR {model.Proto.IrVersion}, opsets {string.Join(", ", opsets.Select(x => $"{x.Domain} {x.Version}"))}, {model.Proto.ProducerName} {model.Proto.ProducerVersion})".Replace(" )", ")"));
        foreach (var (title, values) in new[] { ("input", inputs), ("output", outputs) })
            foreach (var v in values) o.WriteLine($"{title} {v.Name}: {v.DType} [{string.Join(", ", v.Dims)}]");
        o.WriteLine($"{g.Node.Count} nodes: {string.Join(", ", ops.Select(x => $"{x.Op} {x.Count}"))}");
        var table = new TextTable("initializer", "dtype", "shape", "parameters", "bytes") { RightAligned = { 3, 4 } };
        foreach (var i in initializers)
            table.Add(i.Name + (i.IsExternal ? " (external)" : ""), TypeName(i), Shapes.Format(i.Shape), Elements(i).ToString("N0"), Bytes(i).ToString("N0"));
        table.WriteTo(o);
        o.WriteLine($"{initializers.Count} initializers, {parameters:N0} parameters, {bytes:N0} bytes ({InspectCommand.FormatBytes(bytes)})");
    }

    private static Value Describe(ValueInfoProto v)
    {
        var tensor = v.Type?.TensorType;
        string dtype = tensor is null ? "?" : OnnxDTypes.TryToDType(tensor.ElemType, out var d) ? d.ShortName() : OnnxDTypes.OnnxName(tensor.ElemType).ToLowerInvariant();
        var dims = tensor?.Shape?.Dim.Select(x => x.HasDimValue ? x.DimValue.ToString() : x.HasDimParam && x.DimParam != "" ? x.DimParam : "?").ToList() ?? [];
        return new Value(v.Name, dtype, dims);
    }
}
