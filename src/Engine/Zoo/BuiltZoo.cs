namespace Amalgam.Engine.Zoo;

/// <summary>
/// A built zoo on disk (all ONNX, input `image` [N, 1, 28, 28] float32, output logits [N, C]). Every
/// model has the same tower; heads (<see cref="PrivateRegex"/>) are per task, with the task's own
/// class count C (so the logits' class dimension differs between task models too).
/// </summary>
/// <param name="Folder">The cache folder holding everything.</param>
/// <param name="Base">The pretrained tower with the first task's head (merge base; heads are private, so which head does not matter).</param>
/// <param name="PrivateRegex">Regex naming the head parameters, for `--private`.</param>
/// <param name="ParameterCount">Parameters of the tower (what is merged); each task model adds its head, C x (E + 1).</param>
public sealed record BuiltZoo(string Folder, string Base, IReadOnlyList<ZooTask> Tasks, string PrivateRegex, long ParameterCount, ZooOptions Options);

/// <param name="Name">TinyTasks name.</param>
/// <param name="Pretrained">The pretrained tower with this task's linear-probe head (the "zero-shot" row).</param>
/// <param name="FineTuned">The tower fine-tuned on this task, with the same (frozen) head.</param>
/// <param name="TestInputs">.npy float32 [N, 1, 28, 28]: the task's test split (unlabeled data for AdaMerging/CAT/...).</param>
/// <param name="TestLabels">.npy int64 [N].</param>
public sealed record ZooTask(string Name, string Pretrained, string FineTuned, string TestInputs, string TestLabels, int ClassCount);
