import type { FieldErrors, FieldName } from "./form-errors";

export { apiFieldErrors, EXAMPLE_PRICES, type FieldErrors, type FieldName, fieldsOf, parseJsonFields, type ServiceFields } from "./form-errors";

/** A labelled input or text area with its errors announced beside it (aria-describedby). */
export function Field({
  name,
  label,
  value,
  errors,
  hint,
  area,
  required,
  placeholder,
}: {
  name: FieldName;
  label: string;
  value: string;
  errors: FieldErrors;
  hint?: string;
  area?: boolean;
  required?: boolean;
  placeholder?: string;
}) {
  const id = `svc-${name}`;
  const problems = errors[name] ?? [];
  const described = [hint ? `${id}-hint` : "", problems.length ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
  const common = { id, name, required, placeholder, "aria-describedby": described, "aria-invalid": problems.length ? "true" : undefined };
  return (
    <>
      <label for={id}>{label}</label>
      {hint && <small id={`${id}-hint`}>{hint}</small>}
      {area ? (
        <textarea {...common} rows={6} spellcheck={false}>
          {value}
        </textarea>
      ) : (
        <input {...common} value={value} />
      )}
      {problems.length > 0 && (
        <p class="error" id={`${id}-error`} data-field-error={name}>
          {problems.join("; ")}
        </p>
      )}
    </>
  );
}

/** The form-level errors (those of no one field), if any. */
export function FormErrors({ errors }: { errors: FieldErrors }) {
  const count = Object.values(errors).reduce((n, list) => n + (list?.length ?? 0), 0);
  if (count === 0) return null;
  return (
    <div class="error" role="alert" data-testid="form-errors">
      <p>{`The service was not saved: ${count} problem${count === 1 ? "" : "s"}, shown by each field.`}</p>
      {(errors._form ?? []).map((e) => (
        <p>{e}</p>
      ))}
    </div>
  );
}
