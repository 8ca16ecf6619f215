/** A CSV cell: a finite number, a string, or `null` for a missing value. */
export type CellValue = number | string | null;
