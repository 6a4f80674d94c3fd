package domain

import "regexp"

// Unit is an evaluated unit (หน่วยรับการประเมิน): a built-in province or a
// department registered by OPDC.
type Unit struct {
	Code   string   `json:"code"`
	Kind   UnitKind `json:"kind"`
	NameTH string   `json:"name_th"`
	NameEN string   `json:"name_en"`
	Region string   `json:"region,omitempty"`
}

// DepartmentRegistered is the event of OPDC registering a department.
type DepartmentRegistered struct {
	Code   string `json:"code"`
	NameTH string `json:"name_th"`
	NameEN string `json:"name_en"`
}

// departmentCode is a short lower-case code ("cdd"); it becomes a subject
// token, so dots, wildcards and spaces are impossible by construction.
var departmentCode = regexp.MustCompile(`^[a-z][a-z0-9-]{1,15}$`)

// RegisterDepartment decides on registering a department. exists tells
// whether the code is already taken (by a department or a province).
func RegisterDepartment(code string, kind UnitKind, nameTH, nameEN string, exists bool) (DepartmentRegistered, error) {
	var p problems
	if !departmentCode.MatchString(code) {
		p.add("code", "must be 2-16 lower-case letters, digits or '-', starting with a letter (e.g. \"cdd\")")
	}
	if kind != KindDepartment {
		p.add("kind", `must be "department": the 76 provinces are built in`)
	}
	checkText(&p, "name_th", nameTH, MaxNameLen, true)
	checkText(&p, "name_en", nameEN, MaxNameLen, true)
	if err := p.err(); err != nil {
		return DepartmentRegistered{}, err
	}
	if exists {
		return DepartmentRegistered{}, conflictf("unit %q is already registered", code)
	}
	return DepartmentRegistered{Code: code, NameTH: nameTH, NameEN: nameEN}, nil
}

// IsUnitCode reports whether s has the shape of a unit code (a province's
// ISO code or a department code), safe to use as a subject token.
func IsUnitCode(s string) bool {
	return departmentCode.MatchString(s) || provinceCode.MatchString(s)
}

var provinceCode = regexp.MustCompile(`^TH-[0-9]{2}$`)
