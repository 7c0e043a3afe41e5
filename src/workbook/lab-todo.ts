/**
 * What a lab stub throws until the learner writes the exercise. The runner recognises it and says
 * "not done yet" instead of showing a stack trace.
 */
export class LabTodo extends Error {
  override readonly name = "LabTodo";
  constructor(readonly exercise: string) {
    super(`exercise ${exercise} is not written yet`);
  }
}
