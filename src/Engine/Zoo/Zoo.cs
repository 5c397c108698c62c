namespace Amalgam.Engine.Zoo;

/// <summary>
/// A built zoo on disk (all ONNX, input `image` [N, 1, 28, 28] float32, output logits). Every model
/// has the same graph and tensor names; heads (<see cref="PrivateRegex"/>) differ per task.
/// </summary>
/// <param name="Folder">The cache folder holding everything.</param>
/// <param name="Base">The pretrained tower with a head (merge base; heads are private, so which head does not matter).</param>
/// <param name="PrivateRegex">Regex naming the head parameters, for `--private`.</param>
/// <param name="ParameterCount">Parameters of one model (tower + head).</param>
public sealed record Zoo(string Folder, string Base, IReadOnlyList<ZooTask> Tasks, string PrivateRegex, long ParameterCount, ZooOptions Options);

/// <param name="Name">TinyTasks name.</param>
/// <param name="Pretrained">The pretrained tower with this task's linear-probe head (the "zero-shot" row).</param>
/// <param name="FineTuned">The tower fine-tuned on this task, with the same (frozen) head.</param>
/// <param name="TestInputs">.npy float32 [N, 1, 28, 28]: the task's test split (unlabeled data for AdaMerging/CAT/...).</param>
/// <param name="TestLabels">.npy int64 [N].</param>
public sealed record ZooTask(string Name, string Pretrained, string FineTuned, string TestInputs, string TestLabels, int ClassCount);
